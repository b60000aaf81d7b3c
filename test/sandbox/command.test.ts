import { describe, expect, it } from 'vitest';
import { parseSandboxFlags, type SandboxFlags } from '../../src/commands/sandbox.js';
import { UsageError } from '../../src/core/errors.js';
import { Buffered, runInProcess } from '../support/in-process.js';

const buffer = () => new Buffered();

describe('parseSandboxFlags', () => {
  it.each<[SandboxFlags, object]>([
    [{}, {}],
    [
      { port: '8080', host: 'localhost', seed: '4' },
      { port: 8080, host: 'localhost', seed: 4 },
    ],
    [
      { latency: '20', tokenLifetime: '60', clockSkew: '-30' },
      { latencyMs: 20, tokenLifetimeSeconds: 60, clockSkewSeconds: -30 },
    ],
    [{ faults: 'http500=0.1, stall=0.05,stallMs=500' }, { faults: { http500: 0.1, stall: 0.05, stallMs: 500 } }],
    [
      { tsCompare: '>=', trailingCursor: false, updatePrecision: 'second' },
      { ecnuTsCompare: '>=', tongjiTrailingCursor: false, tongjiUpdatePrecision: 'second' },
    ],
  ])('%o → %o', (flags, expected) => {
    expect(parseSandboxFlags(flags)).toEqual(expected);
  });

  it('scales the other datasets with --people', () => {
    const people = parseSandboxFlags({ people: '1200' }).people;
    expect(people).toMatchObject({ 'ecnu-users': 1200, 'ecnu-staff': 500, 'tongji-students': 5000 });
    expect(parseSandboxFlags({ people: '1000000' }).people?.['tongji-students']).toBe(100_000);
  });

  it.each<SandboxFlags>([
    { port: '70000' },
    { port: 'abc' },
    { port: '1.5' },
    { seed: '-1' },
    { people: 'many' },
    { latency: '-5' },
    { tokenLifetime: '0' },
    { faults: 'http500=2' },
    { faults: 'explode=0.1' },
    { faults: 'http500' },
    { tsCompare: '<' },
    { host: ' ' },
  ])('refuses %o with a UsageError', (flags) => {
    expect(() => parseSandboxFlags(flags)).toThrow(UsageError);
  });
});

describe('idsync sandbox', () => {
  it('prints paste-ready lines, serves, and stops on the abort signal', async () => {
    const stdout = buffer();
    const stderr = buffer();
    const controller = new AbortController();
    const run = runInProcess(['sandbox', '--port', '0', '--people', '60'], {}, { stdout, stderr, signal: controller.signal });
    await stdout.whenWritten(/TONGJI_CLIENT_SECRET/);

    const url = /^export IDSYNC_ECNU_BASE_URL=(\S+)$/m.exec(stdout.text)?.[1] as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stdout.text).toContain(`export IDSYNC_TONGJI_BASE_URL=${url}`);
    expect(stdout.text).toContain('export IDSYNC_ECNU_CLIENT_ID=sandbox-ecnu');
    expect(stdout.text).toContain('export IDSYNC_TONGJI_CLIENT_SECRET=sandbox-tongji-secret');
    expect(stdout.text).toContain(`${url}/__sandbox/info`);
    const info = (await (await fetch(`${url}/__sandbox/info`)).json()) as { datasets: Record<string, { count: number }> };
    expect(info.datasets['ecnu-users']?.count).toBe(60);
    expect(info.datasets['ecnu-staff']?.count).toBe(25);

    controller.abort('SIGINT');
    await run;
    await expect(fetch(`${url}/__sandbox/info`)).rejects.toThrow();
    expect(stderr.text).toContain('stopped');
  });

  it('reports a bad option before starting', async () => {
    const r = await runInProcess(['sandbox', '--port', '99999'], {});
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^idsync: .*port/);
  });
});
