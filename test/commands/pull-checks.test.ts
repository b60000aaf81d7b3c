import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type TestWorld } from '../support/env.js';
import { runInProcess } from '../support/in-process.js';
import { defaultConcurrency } from '../../src/commands/pull.js';

/**
 * `pull`'s own checks, through the real program in-process: each is a usage error (exit 2, one
 * line naming the problem) reported before any request reaches the platform.
 */
let w: TestWorld;
beforeAll(async () => {
  w = await startWorld({ seed: 5, people: { 'ecnu-users': 5 } });
});
afterAll(() => w.close());

const at = (name: string) => path.join(w.home, name);

interface Case {
  name: string;
  args: () => string[];
  tty?: boolean;
  message: RegExp;
}

const cases: Case[] = [
  ...['ts', 'pageSize', 'pageNum', 'full', 'sinceUserId', 'sinceUpdateTime'].map((key) => ({
    name: `reserved --param ${key}`,
    args: () => ['pull', 'ecnu-users', '-o', at('o.ndjson'), '--param', `${key}=1`],
    message: new RegExp(`--param ${key} is set by idsync itself`),
  })),
  {
    name: 'a required --param missing',
    args: () => ['pull', 'ecnu-students', '-o', at('o.ndjson')],
    message: /source ecnu-students needs --param type=VALUE/,
  },
  {
    name: '--format without -o',
    args: () => ['pull', 'ecnu-users', '--format', 'csv', '--snapshot', at('s.ndjson')],
    message: /--format applies to --out/,
  },
  {
    name: 'xlsx to a terminal',
    args: () => ['pull', 'ecnu-users', '-o', '-', '--format', 'xlsx'],
    tty: true,
    message: /refusing to write an Excel workbook to a terminal/,
  },
  {
    name: '--out equal to --snapshot',
    args: () => ['pull', 'ecnu-users', '-o', at('same.ndjson'), '--snapshot', path.relative(process.cwd(), at('same.ndjson'))],
    message: /--out and --snapshot must be different files/,
  },
  {
    name: 'page size over the option maximum',
    args: () => ['pull', 'ecnu-users', '-o', at('o.ndjson'), '--page-size', '10001'],
    message: /--page-size/,
  },
  { name: 'an unknown source', args: () => ['pull', 'ecnu-nobody', '-o', at('o.ndjson')], message: /ecnu-nobody/ },
  { name: 'an unknown --format', args: () => ['pull', 'ecnu-users', '-o', at('o.txt'), '--format', 'txt'], message: /--format/ },
  { name: 'a bad --since', args: () => ['pull', 'ecnu-users', '-o', at('o.ndjson'), '--since', 'yesterday'], message: /since/ },
];

describe('pull refuses before any request', () => {
  it.each(cases)('$name', async ({ args, tty, message }) => {
    const requests = w.sb.stats().requests;
    const r = await runInProcess(args(), w.env, { tty: tty ?? false });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)]);
    expect(r.stderr).toMatch(/^idsync: /);
    expect(r.stdout).toBe('');
    expect(w.sb.stats().requests).toBe(requests);
  });

  it('and runs when the same options are right', async () => {
    const r = await runInProcess(['pull', 'ecnu-users', '-o', at('ok.ndjson'), '--page-size', '10000'], w.env);
    expect(r.exitCode, r.stderr).toBe(0);
  });
});

describe('pages in flight by default', () => {
  it('4 at the default page size; fewer for larger pages, so that at most 20000 records are in flight', () => {
    expect([undefined, 1000, 5000, 6000, 6667, 10_000].map(defaultConcurrency)).toEqual([4, 4, 4, 3, 2, 2]);
  });
});
