import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type TestWorld } from '../support/env.js';
import { runInProcess } from '../support/in-process.js';
import { parseNdjson } from '../support/ndjson.js';

describe('idsync lookup (command layer, in process)', () => {
  let w: TestWorld;
  let active: string[];
  beforeAll(async () => {
    w = await startWorld({ seed: 21 });
    active = w.sb
      .truth('ecnu-users')
      .filter((r) => r['active'] === '1')
      .map((r) => String(r['userId']));
  });
  afterAll(() => w.close());
  const lookup = (args: string[], tty = false) => runInProcess(['lookup', ...args], w.env, { tty });

  it('prints NDJSON for a pipe, exit 0 when every id is found', async () => {
    const r = await lookup([active[0] as string, active[1] as string, '--provider', 'ecnu']);
    expect(r.exitCode).toBe(0);
    expect(parseNdjson(r.stdout).map((x) => x['userId'])).toEqual(active.slice(0, 2));
    expect(r.stderr).toBe('');
  });

  it('an unknown id prints no record, says so on stderr and exits 7', async () => {
    const r = await lookup([active[0] as string, '99999999', '--provider', 'ecnu']);
    expect(r.exitCode).toBe(7);
    expect(parseNdjson(r.stdout)).toHaveLength(1);
    expect(r.stderr).toContain('idsync: not found: 99999999\n');
  });

  it('--format json is one array; a terminal gets a table', async () => {
    const json = await lookup([active[0] as string, active[1] as string, '--provider', 'ecnu', '--format', 'json']);
    expect((JSON.parse(json.stdout) as unknown[]).length).toBe(2);
    const table = await lookup([active[0] as string, active[1] as string, '--provider', 'ecnu'], true);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^userId\s+name\s+departmentId\s+active\s+userType\s+department$/); // key and name first
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(active[0]);
  });

  it('masks ID-card numbers by default and reveals them with a consent warning', async () => {
    const id = active[2] as string;
    const masked = await lookup([id, '--provider', 'ecnu', '--kind', 'idcard']);
    const zjhm = String(parseNdjson(masked.stdout)[0]?.['zjhm']);
    expect(zjhm).toMatch(/^\d{3}\*{11}[\dX]{4}$/);
    expect(masked.stderr).toMatch(/1 ID-card number\(s\) masked/);
    const shown = await lookup([id, '--provider', 'ecnu', '--kind', 'idcard', '--reveal']);
    const full = String(parseNdjson(shown.stdout)[0]?.['zjhm']);
    expect(full).toMatch(/^\d{17}[\dX]$/);
    expect(full.slice(0, 3) + full.slice(-4)).toBe(zjhm.slice(0, 3) + zjhm.slice(-4));
    expect(shown.stderr).toMatch(/warning: .*consent/);
    // The note counts what is shown.
    const hidden = await lookup([id, '--provider', 'ecnu', '--kind', 'idcard', '--fields', 'userId,name']);
    expect(hidden.stderr).not.toMatch(/masked/);
    const kept = await lookup([id, '--provider', 'ecnu', '--kind', 'idcard', '--fields', 'zjhm']);
    expect(parseNdjson(kept.stdout)).toEqual([{ zjhm }]);
    expect(kept.stderr).toMatch(/1 ID-card number\(s\) masked/);
    // Said even with --quiet, which silences the other warnings.
    const quietly = await lookup([id, '--provider', 'ecnu', '--kind', 'idcard', '--reveal', '--quiet']);
    expect(quietly.stderr).toMatch(/warning: .*consent/);
    // The table masks too.
    const table = await lookup([id, '--provider', 'ecnu', '--kind', 'idcard'], true);
    expect(table.stdout).toContain(zjhm);
    expect(table.stdout).not.toContain(full);
    // multisearch's last-six-digits field is masked as well.
    const multi = await lookup([id, '--provider', 'ecnu', '--kind', 'multi']);
    expect(parseNdjson(multi.stdout).every((row) => /^\*+$/.test(String(row['zjhm'])))).toBe(true);
  });

  it('--by-idcard finds people by ID-card number, masking it in messages', async () => {
    const id = active[3] as string;
    const card = await lookup([id, '--provider', 'ecnu', '--kind', 'idcard', '--reveal']);
    const full = String(parseNdjson(card.stdout)[0]?.['zjhm']);
    const r = await lookup([full, '110105190001010000', '--provider', 'ecnu', '--by-idcard']);
    expect(r.exitCode).toBe(7);
    expect(parseNdjson(r.stdout).map((x) => x['userId'])).toContain(id);
    expect(r.stderr).toContain('not found: 110***********0000');
    expect(r.stderr).not.toContain('110105190001010000');
    // --verbose logs each request, with the number it sends masked too.
    const verbose = await lookup([full, '--provider', 'ecnu', '--by-idcard', '--verbose']);
    expect(verbose.exitCode).toBe(0);
    expect(verbose.stderr).toMatch(/GET \S*zjhm=\d{3}\*{11}[\dX]{4}\b/);
    expect(verbose.stderr).not.toContain(full);
  });

  it('refuses bad usage before any request', async () => {
    const before = w.sb.stats().requests;
    const cases: Array<[string[], RegExp]> = [
      [['1', '--provider', 'ecnu', '--kind', 'postdoc'], /unknown --kind 'postdoc' for ecnu; expected one of info, staff/],
      [['1', '--provider', 'tongji', '--kind', 'info'], /unknown --kind 'info' for tongji/],
      [['a b', '--provider', 'ecnu'], /userId "a b" contains white space/],
      [['1,2', '--provider', 'tongji', '--kind', 'postdoc'], /contains a comma/],
      [['--provider', 'tongji'], /give at least one userId/],
      [['--provider', 'ecnu', '--kind', 'multi'], /--kind multi cannot answer for the signed-in person/],
      [['1', '--provider', 'tongji', '--by-idcard'], /only available from ecnu/],
      [['1', '--provider', 'ecnu', '--format', 'xml'], /expected one of ndjson, json, table/],
    ];
    for (const [args, message] of cases) {
      const r = await lookup(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(w.sb.stats().requests).toBe(before);
  });

  it('reads ids from --ids-file, looks Tongji postdocs up in batches', async () => {
    const ids = w.sb.truth('tongji-postdocs').map((r) => String(r['userId']));
    const file = path.join(w.home, 'postdocs.txt');
    fs.writeFileSync(file, `${ids.join('\n')}\n`);
    const r = await lookup(['--provider', 'tongji', '--kind', 'postdoc', '--ids-file', file]);
    expect(r.exitCode).toBe(0);
    expect(parseNdjson(r.stdout).map((x) => x['userId'])).toEqual(ids);
  });
});
