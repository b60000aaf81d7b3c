import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editDistance, nearest } from '../../src/core/suggest.js';
import { idsync } from '../support/cli.js';
import { tempDir } from '../support/env.js';

describe('edit distance and the nearest name', () => {
  it.each([
    ['ecnu-staf', 'ecnu-staff', 1],
    ['ecun', 'ecnu', 1], // a swapped pair is one edit
    ['tongji', 'tongji', 0],
    ['', 'abc', 3],
  ])('%j → %j is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });

  it('suggests only what is close enough to be a typo', () => {
    const sources = ['ecnu-users', 'ecnu-staff', 'tongji-staff'];
    expect(nearest('ecnu-staf', sources)).toBe('ecnu-staff');
    expect(nearest('TONGJI-STAF', sources)).toBe('tongji-staff');
    expect(nearest('zzz', sources)).toBeUndefined();
    expect(nearest('ecun', ['ecnu', 'tongji'])).toBe('ecnu');
  });
});

describe('did you mean, everywhere a source or provider is named', () => {
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    home = await tempDir();
    env = { PATH: process.env['PATH'] ?? '', HOME: home, IDSYNC_HOME: home };
  });
  afterAll(() => undefined);

  it('pull ecnu-staf', async () => {
    const r = await idsync(['pull', 'ecnu-staf'], env);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown source 'ecnu-staf' (did you mean 'ecnu-staff'?)");
  });

  it('state reset ecnu-staf suggests and lists the known sources', async () => {
    const r = await idsync(['state', 'reset', 'ecnu-staf'], env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("(did you mean 'ecnu-staff'?)");
    expect(r.stderr).toContain('known sources: ecnu-users, ecnu-staff,');
    expect(r.stderr).toContain('tongji-postdocs');
  });

  it.each([[['auth', 'login', 'ecun', '--client-id', 'x']], [['auth', 'logout', 'ecun']], [['lookup', '1', '--provider', 'ecun']]])(
    '%j',
    async (args) => {
      const r = await idsync(args, env);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("(did you mean 'ecnu'?)");
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    },
  );

  it('lookup --kind staf suggests staff', async () => {
    const r = await idsync(['lookup', '1', '--provider', 'ecnu', '--kind', 'staf'], env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("(did you mean 'staff'?)");
  });
});
