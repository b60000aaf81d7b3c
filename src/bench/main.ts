/**
 * `npm run bench -- [--sections startup,pull] [--records 200000,1000000] [--latency 150,0] [--rounds N] [--only a,b]`
 *
 * First the start-up section (see startup.ts), then the pull scenarios:
 * For each scenario (records and per-request latency, paired by position), starts the sandbox
 * in a process of its own, then runs every contender as its own process, alternating
 * (A B C D A B C D …) so that drift on the machine hits all of them alike. Each run's output is
 * checked: the right number of lines, and byte-identical records where the order is the same.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ecnu } from '../providers/ecnu/index.js';
import { contenders, repoRoot, type Contender } from './contenders.js';
import { MINIMAL_PAGE_SIZE } from './lean-http.js';
import { digestFile, runNode } from './measure.js';
import { formatScenario, machine, scenarioLabel, type ContenderResult, type ScenarioResult } from './report.js';
import { postgresScenario } from './postgres-bench.js';
import { startSandboxProcess } from './sandbox-process.js';
import { formatStartup, runStartup } from './startup.js';

const usage = `usage: npm run bench -- [options]
  --sections <names>  what to measure: startup, pull or both (default startup,pull)
  --startup-rounds <n> runs of each start-up case (default 15)
  --records <n,...>   ecnu-users records per scenario (default 200000,1000000)
  --latency <ms,...>  delay the sandbox adds to each request, per scenario (default 150,0)
  --rounds <n>        runs of each contender per scenario (default 3, or 2 from 1M records)
  --only <names>      contenders to run: ${contenders.map((c) => c.name).join(', ')}, postgres
  --tmp <dir>         where the runs write (default the OS temp folder)
  --postgres          also the PostgreSQL snapshot (first run and a 1% incremental) at the
                      last --records value, with a throwaway server or IDSYNC_BENCH_DATABASE_URL`;

function list(raw: string, what: string): number[] {
  const xs = raw.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`--${what} expects whole numbers, got '${raw}'`);
  return xs;
}

function parse() {
  const { values } = parseArgs({
    options: {
      sections: { type: 'string', default: 'startup,pull' },
      'startup-rounds': { type: 'string', default: '15' },
      records: { type: 'string', default: '200000,1000000' },
      latency: { type: 'string', default: '150,0' },
      rounds: { type: 'string' },
      only: { type: 'string' },
      tmp: { type: 'string', default: os.tmpdir() },
      help: { type: 'boolean', default: false },
      postgres: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const records = list(values.records, 'records');
  const latency = list(values.latency, 'latency');
  if (latency.length !== 1 && latency.length !== records.length) throw new Error('--latency takes one value, or one per --records value');
  const rounds = values.rounds === undefined ? undefined : (list(values.rounds, 'rounds')[0] as number);
  // `--only postgres` runs the PostgreSQL bench alone.
  const only = values.only?.split(',').map((s) => s.trim());
  const postgres = values.postgres || (only?.includes('postgres') ?? false);
  const picked = only?.filter((n) => n !== 'postgres');
  for (const name of picked ?? []) if (!contenders.some((c) => c.name === name)) throw new Error(`--only: unknown contender '${name}'`);
  const sections = values.sections.split(',').map((x) => x.trim());
  for (const x of sections) if (x !== 'startup' && x !== 'pull') throw new Error(`--sections: unknown section '${x}'`);
  return {
    sections,
    startupRounds: list(values['startup-rounds'], 'startup-rounds')[0] as number,
    scenarios: records.map((n, i) => ({ records: n, latencyMs: (latency.length === 1 ? latency[0] : latency[i]) as number })),
    rounds,
    chosen: picked ? contenders.filter((c) => picked.includes(c.name)) : [...contenders],
    tmp: values.tmp,
    postgres,
  };
}

async function runScenario(
  records: number,
  latencyMs: number,
  rounds: number,
  chosen: readonly Contender[],
  tmp: string,
): Promise<ScenarioResult> {
  const label = scenarioLabel(records, latencyMs);
  console.error(`${label}: starting the sandbox…`);
  const sandbox = await startSandboxProcess(records, latencyMs);
  const loadBefore = os.loadavg()[0] as number;
  const results: ContenderResult[] = chosen.map((c) => ({ name: c.name, lines: 0, wallMs: [], maxRssKb: [] }));
  let reference: { sha256: string; name: string } | undefined;
  try {
    for (let round = 1; round <= rounds; round += 1) {
      // Contenders that change the sandbox's data come last: the others of a round see the same data.
      reference = undefined;
      for (const [i, c] of chosen.entries()) {
        const dir = await fs.mkdtemp(path.join(tmp, `idsync-bench-${c.name}-`));
        try {
          const setup = { sandbox: sandbox.info, dir };
          await c.prepare?.(setup);
          const inv = c.invoke(setup);
          const m = await runNode(inv.args, inv.env, repoRoot);
          const { lines, sha256 } = await digestFile(inv.output);
          if (inv.minLines !== undefined ? lines < inv.minLines : lines !== sandbox.info.live) {
            throw new Error(
              `${c.name} wrote ${lines} lines, expected ${inv.minLines !== undefined ? `at least ${inv.minLines}` : sandbox.info.live}`,
            );
          }
          if (inv.sameBytes) {
            reference ??= { sha256, name: c.name };
            if (sha256 !== reference.sha256) throw new Error(`${c.name}'s output differs from ${reference.name}'s`);
          }
          const checked = inv.check ? `, ${await inv.check()}` : '';
          const r = results[i] as ContenderResult;
          r.lines = lines;
          r.wallMs.push(m.wallMs);
          r.maxRssKb.push(m.maxRssKb);
          console.error(
            `  round ${round}/${rounds} ${c.name}: ${(m.wallMs / 1000).toFixed(2)} s, ${(m.maxRssKb / 1024).toFixed(0)} MB, ${lines} lines${checked} ok`,
          );
        } finally {
          await fs.rm(dir, { recursive: true, force: true });
        }
        (globalThis as { gc?: () => void }).gc?.();
      }
    }
  } finally {
    await sandbox.stop();
  }
  return { records, latencyMs, results, load: [loadBefore, os.loadavg()[0] as number] };
}

let opts: ReturnType<typeof parse>;
try {
  opts = parse();
} catch (err) {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}\n${usage}`);
  process.exit(2);
}
if (MINIMAL_PAGE_SIZE !== ecnu.sync.defaultPageSize) {
  console.error(
    `note: the minimal client pages by ${MINIMAL_PAGE_SIZE}, idsync by ${ecnu.sync.defaultPageSize}: the comparison is no longer like for like`,
  );
}
console.log(`machine: ${machine()}`);
const args = process.argv.slice(2).join(' ');
console.log(`command: npm run bench${args ? ` -- ${args}` : ''}`);
if (opts.sections.includes('startup')) {
  console.error('start-up: measuring…');
  console.log(`\n${formatStartup(await runStartup(opts.startupRounds, opts.tmp))}`);
}
const pulls = opts.sections.includes('pull') && opts.chosen.length > 0;
if (pulls) for (const c of opts.chosen) console.log(`- ${c.name}: ${c.about}`);
for (const s of pulls ? opts.scenarios : []) {
  const rounds = opts.rounds ?? (s.records >= 1_000_000 ? 2 : 3);
  const result = await runScenario(s.records, s.latencyMs, rounds, opts.chosen, opts.tmp);
  console.log(`\n${formatScenario(result)}`);
}
if (opts.postgres) {
  const records = opts.scenarios[opts.scenarios.length - 1]?.records ?? 1_000_000;
  console.error(`PostgreSQL, ${records} records: starting the sandbox…`);
  const sandbox = await startSandboxProcess(records, 0);
  try {
    console.log(`\n${await postgresScenario(sandbox.info, opts.rounds ?? 2, opts.tmp)}`);
  } finally {
    await sandbox.stop();
  }
}
