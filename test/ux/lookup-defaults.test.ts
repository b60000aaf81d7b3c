import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecords } from '../../src/core/table.js';
import { renderTable } from '../../src/lookup/record-output.js';
import { binPath as bin } from '../support/cli.js';
import { parseNdjson as ndjson } from '../support/ndjson.js';
import { runInProcess as runCli } from '../support/in-process.js';
import { startWorld, type TestWorld } from '../support/env.js';

const run = promisify(execFile);

describe('records as a person reads them', () => {
  const rows = [
    { deptName: '计算机学院', phone: '1', name: '张伟', userId: '001' },
    { deptName: '数学学院', phone: '2', name: 'Li', userId: '002' },
  ];

  it('puts key and name first', () => {
    expect(renderTable(rows).split('\n')[0]).toMatch(/^userId +name +deptName +phone$/);
  });

  it('turns a table wider than the terminal into one block per record', () => {
    const fields = ['userId', 'name', 'note'];
    const cells = [
      ['001', '张伟', 'x'.repeat(50)],
      ['002', 'Li', 'y'],
    ];
    expect(formatRecords(fields, cells, 200)).toMatch(/^userId +name +note\n001 +张伟 +x+\n/);
    expect(formatRecords(fields, cells, 40)).toBe(
      [
        '-[ RECORD 1 ]---',
        'userId  001',
        'name    张伟',
        `note    ${'x'.repeat(50)}`,
        '-[ RECORD 2 ]---',
        'userId  002',
        'name    Li',
        'note    y',
        '',
      ].join('\n'),
    );
  });

  it('--fields chooses and orders the columns', () => {
    expect(renderTable(rows, { fields: ['name', 'userId'] })).toBe('name  userId\n张伟  001\nLi    002\n');
  });
});

describe('lookup and photo defaults, end to end', () => {
  let w: TestWorld;
  let ecnuIds: string[];
  let tongjiStaff: string[];
  beforeAll(async () => {
    w = await startWorld({ seed: 13 });
    ecnuIds = w.sb
      .truth('ecnu-users')
      .filter((r) => r['active'] === '1')
      .map((r) => String(r['userId']));
    tongjiStaff = w.sb
      .truth('tongji-staff')
      .slice(0, 3)
      .map((r) => String(r['userId']));
  });
  afterAll(() => w.close());

  const ecnuOnly = () => Object.fromEntries(Object.entries(w.env).filter(([k]) => !k.startsWith('IDSYNC_TONGJI_')));

  it('wide Tongji staff records come one block each on a narrow terminal; --fields makes a table', async () => {
    const wide = await runCli(['lookup', ...tongjiStaff, '--provider', 'tongji', '--kind', 'staff', '--format', 'table'], {
      ...w.env,
      COLUMNS: '150',
    });
    expect(wide.exitCode).toBe(0);
    const blocks = wide.stdout.split(/^-\[ RECORD \d+ \]-+$/m).filter(Boolean);
    expect(blocks).toHaveLength(3);
    expect(blocks[0]?.trim().split('\n')[0]).toMatch(/^userId +\S+$/);
    expect(blocks[0]?.trim().split('\n')[1]).toMatch(/^name +\S+$/);
    const narrow = await runCli(
      ['lookup', ...tongjiStaff, '--provider', 'tongji', '--kind', 'staff', '--format', 'table', '--fields', 'userId,name,nosuch'],
      { ...w.env, COLUMNS: '150' },
    );
    expect(narrow.stdout.split('\n')[0]).toMatch(/^userId +name +nosuch$/);
    expect(narrow.stdout.trim().split('\n')).toHaveLength(4);
    expect(narrow.stderr).toContain("--fields: no record has a field 'nosuch'");
  });

  it('reads ids from a pipe when none are given', async () => {
    const { stdout } = await run(
      'bash',
      ['-c', `printf '%s\\n' "$1" | "$2" "$3" lookup --provider ecnu`, 'bash', ecnuIds[0] as string, process.execPath, bin],
      {
        env: { ...w.env, NO_COLOR: '1' },
      },
    );
    expect(ndjson(stdout).map((r) => r['userId'])).toEqual([ecnuIds[0]]);
  });

  it('infers --provider when only one platform is configured, refuses to guess between two', async () => {
    const one = await runCli(['lookup', ecnuIds[1] as string], ecnuOnly());
    expect(one.exitCode).toBe(0);
    expect(ndjson(one.stdout).map((r) => r['userId'])).toEqual([ecnuIds[1]]);
    const two = await runCli(['lookup', ecnuIds[1] as string], w.env);
    expect(two.exitCode).toBe(2);
    expect(two.stderr).toContain('choose one with --provider ecnu or --provider tongji');
    // A kind only one platform has decides it.
    const postdoc = await runCli(['lookup', tongjiStaff[0] as string, '--kind', 'postdoc'], w.env);
    expect(postdoc.stderr).not.toContain('--provider');
  });

  it('photo needs neither --provider nor --out-dir: ./photos', async () => {
    const cwd = path.join(w.home, 'cwd');
    fs.mkdirSync(cwd);
    const r = await run(process.execPath, [bin, 'photo', ecnuIds[2] as string], { cwd, env: { ...ecnuOnly(), NO_COLOR: '1' } });
    expect(r.stderr).toContain('photos: 1 saved');
    expect(fs.existsSync(path.join(cwd, 'photos', `${ecnuIds[2]}.jpg`))).toBe(true);
  });
});
