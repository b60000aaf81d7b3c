import os from 'node:os';
import { median, rssSource } from './measure.js';

export interface ContenderResult {
  name: string;
  lines: number;
  wallMs: number[];
  maxRssKb: number[];
}

export interface ScenarioResult {
  records: number;
  latencyMs: number;
  results: ContenderResult[];
  /** 1-minute load average before and after: other work on the machine shows here. */
  load: [number, number];
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
const secs = (ms: number): string => (ms / 1000).toFixed(2);

export function scenarioLabel(records: number, latencyMs: number): string {
  const n = records % 1_000_000 === 0 ? `${records / 1_000_000}M` : records % 1000 === 0 ? `${records / 1000}k` : String(records);
  return `${n} records, ${latencyMs} ms/request`;
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.availableParallelism()} CPUs (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}, ${os.platform()} ${os.release()}; peak RSS from ${rssSource}`;
}

/** One markdown table per scenario, then the ratios the targets are stated in. */
export function formatScenario(s: ScenarioResult): string {
  const out = [
    `### ${scenarioLabel(s.records, s.latencyMs)}`,
    '',
    '| contender | lines written | wall time (median) | rounds (s) | records/s | peak RSS (max of rounds) |',
    '|---|---:|---:|---|---:|---:|',
  ];
  for (const r of s.results) {
    const t = median(r.wallMs);
    out.push(
      `| ${r.name} | ${r.lines} | ${secs(t)} s | ${r.wallMs.map(secs).join(', ')} | ${Math.round(r.lines / (t / 1000))} | ${mb(Math.max(...r.maxRssKb))} |`,
    );
  }
  const time = (name: string) => {
    const r = s.results.find((x) => x.name === name);
    return r ? median(r.wallMs) : undefined;
  };
  const idsync = time('idsync');
  const sdk = time('sdk-loop');
  const minimal = time('minimal');
  out.push('', `- load average (1 min) ${s.load[0].toFixed(2)} before, ${s.load[1].toFixed(2)} after`);
  if (idsync && sdk) out.push(`- idsync speed-up over sdk-loop: **${(sdk / idsync).toFixed(1)}×**`);
  if (idsync && minimal) out.push(`- idsync time / minimal-client time: **${(idsync / minimal).toFixed(2)}**`);
  const ratio = (a: string, b: string, what: string): void => {
    const x = time(a);
    const y = time(b);
    if (x && y) out.push(`- ${what}: **${(x / y).toFixed(2)}** (${a} / ${b})`);
  };
  ratio('idsync-10k', 'minimal-10k', 'page size 10000, idsync / minimal client (target ≤ 1.5)');
  ratio('idsync-sqlite', 'idsync', 'first run into a new SQLite snapshot / plain pull (target ≤ 1.5)');
  ratio('idsync-sqlite-changes', 'idsync', 'the same with --changes / plain pull (target ≤ 1.5)');
  for (const name of ['sqlite-incr', 'sqlite-incr-changes']) {
    const t = time(name);
    if (t) out.push(`- ${name}: 1% incremental into the full snapshot: **${secs(t)} s** (target ≤ 10 s)`);
  }
  return out.join('\n');
}
