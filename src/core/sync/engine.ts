import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../api-client.js';
import type { HomePaths } from '../home.js';
import { acquireLock } from '../lock.js';
import { jobKey, paramsKey, StateStore, type JobState } from '../state.js';
import type { Provider, Row, SourceDef } from '../provider.js';
import { removeStaleTemps } from '../fs/atomic-file.js';
import type { OutputFormat, SnapshotResult } from './writers.js';
import { newRunId, type ChangeOp } from './changes.js';
import { commitRun, type PrepareOutput } from './commit.js';
import { JobFolder } from './job-folder.js';
import { isJobRun, jobStart, runRole, type SinceSpec } from './job.js';
import { scan } from './scan.js';
import { refuseAnotherJobsSnapshot } from './snapshot-owner.js';
import type { SnapshotLoad, SnapshotTarget } from './snapshot-target.js';
import { checkPrivateTarget, checkWritableTarget } from './targets.js';
import { nextWatermark } from './watermark.js';
import { UsageError } from '../errors.js';

export type { SinceSpec } from './job.js';

export interface PullJob {
  provider: Provider;
  source: SourceDef;
  params: Record<string, string>;
  since: SinceSpec;
  /** '-' for stdout, else an absolute path. */
  out?: { target: string; format: OutputFormat };
  snapshot?: SnapshotTarget;
  /** Absolute path of the changes file (needs a snapshot). */
  changes?: string;
  pageSize?: number;
  concurrency: number;
  overlapSeconds: number;
  waitSeconds?: number;
}

export interface PullEvents {
  onStart?(info: { mode: 'full' | 'incremental'; since: number | undefined; resumed: boolean }): void;
  onPage?(progress: { pages: number; records: number; total: number | undefined }): void;
  onWarning?(message: string): void;
  onInfo?(message: string): void;
  /** Why a --since last run does a full pull: the user must hear it even with --quiet. */
  onFullPull?(reason: string): void;
}

export interface PullDeps {
  home: HomePaths;
  client: ApiClient;
  signal: AbortSignal;
  /** Writes data to stdout with back-pressure. */
  stdout(text: string): Promise<void>;
  /** Copies a finished file to stdout (CSV/XLSX with -o -). */
  pipeFile(file: string): Promise<void>;
  prepareOutput: PrepareOutput;
  /** Whether a record counts as an active person (in school, employed), for the change feed. */
  isActive: (row: Row) => boolean;
  events: PullEvents;
}

export interface PullResult {
  mode: 'full' | 'incremental';
  since: number | undefined;
  watermark: number | undefined;
  records: number;
  deleted: number;
  pages: number;
  outputs: string[];
  snapshot: SnapshotResult | undefined;
  changes: (Record<ChangeOp, number> & { delivered: number }) | undefined;
  resumed: boolean;
  /** Whether the run moved a job's state (a one-off does not). */
  job: boolean;
}

/** What the job's state says, once a killed run's commit is finished or undone. */
async function recoverJob(
  store: StateStore,
  source: string,
  key: string,
  folder: JobFolder,
  snapshot: { target: SnapshotTarget; table: string } | undefined,
  events: PullEvents,
): Promise<JobState | undefined> {
  let state = await store.get(source, key);
  const journal = await folder.readJournal();
  if (journal && state?.lastRunId !== journal.run && snapshot) {
    if ((await snapshot.target.mark(snapshot.table)) === journal.markAfterCommit) {
      await store.put(source, journal.state);
      state = journal.state;
      events.onInfo?.(`finished the commit of run ${journal.run}, which was interrupted; its changes come with this run's`);
    }
  }
  // Killed after saving its state but before its changes file was renamed into place: the
  // file never appeared, so its events are not delivered yet. (Before the stale temp files
  // of the changes file are swept, which would remove the evidence.)
  if (journal?.delivery && state?.lastRunId === journal.run && !(await JobFolder.delivered(journal.delivery))) {
    state = { ...state, deliveredThrough: journal.delivery.from };
    await store.put(source, state);
    events.onInfo?.(`the changes file of run ${journal.run} never appeared (the run was interrupted); its changes come with this run's`);
  }
  if (journal?.delivery) await fs.rm(journal.delivery.temp, { force: true }).catch(() => undefined);
  if (journal) await folder.removeJournal();
  await folder.prune(state);
  return state;
}

/**
 * One pull: pages → spool → outputs → state. The order of a successful run is: every page in
 * the spool, every output written to a temp file and fsync'd, every output renamed (or
 * committed) into place, then the state saved (see commitRun). A run that fails or dies at any
 * point before leaves the previous outputs and state as they were, so `--since last` loses nothing.
 */
export async function runPull(job: PullJob, deps: PullDeps): Promise<PullResult> {
  const { source, provider } = job;
  const snapshotFile = job.snapshot && job.snapshot.kind !== 'postgres' ? job.snapshot.id : undefined;
  if (job.out && job.out.target !== '-') checkWritableTarget(job.out.target, 'output');
  if (snapshotFile) checkPrivateTarget(snapshotFile, 'snapshot');
  if (job.changes) checkPrivateTarget(job.changes, 'changes file');
  const table = source.name.replace(/-/g, '_');
  const snapshot = job.snapshot ? { target: job.snapshot, table, updateField: provider.sync.updateField } : undefined;
  const key = jobKey(job.params, job.snapshot?.id ?? null);
  const store = new StateStore(deps.home.stateDir);
  const roleOf = (state: JobState | undefined) =>
    runRole({
      source: source.name,
      params: job.params,
      since: job.since,
      snapshot: job.snapshot?.label,
      changes: job.changes !== undefined,
      state,
    });
  // A one-off with no snapshot reads and writes nothing of any job: it takes a lock and a work
  // folder of its own, so that `pull … -o - | wc -l` never makes a job's run wait or refuse
  // (two such one-offs of a source still take turns: they share a work folder for resuming).
  const detached = job.snapshot === undefined && !isJobRun(job.since, false);
  // A run the job refuses is told so before it waits for the lock or connects to anything;
  // the same check runs again under the lock, on the state as it then is.
  if (!detached) roleOf(await store.get(source.name, key));
  const lock = await acquireLock(deps.home.locksDir, detached ? `${source.name}.one-off` : source.name, {
    ...(job.waitSeconds !== undefined ? { waitSeconds: job.waitSeconds } : {}),
    signal: deps.signal,
    onWait: (m) => deps.events.onInfo?.(m),
  });
  const workDir = path.join(deps.home.workDir, workName(source.name, job.params) + (detached ? '.one-off' : ''));
  let keepWork = false;
  let load: SnapshotLoad | undefined;
  /** Removes the run's changes file, prepared but not yet shown, should the run fail first. */
  let abandon: (() => Promise<void>) | undefined;
  try {
    await job.snapshot?.open({ table, ...(job.waitSeconds !== undefined ? { waitSeconds: job.waitSeconds } : {}), signal: deps.signal });
    // A run killed with SIGKILL leaves its temp files next to the outputs; clear them now (under
    // the lock) rather than at the next write, so they do not linger through a long scan.
    if (job.out && job.out.target !== '-') await removeStaleTemps(job.out.target);
    if (job.snapshot) await refuseAnotherJobsSnapshot(store, source.name, key, job.snapshot, table);
    // The job's own rule (it has fed a change file) is known only to its IDSYNC_HOME; a table
    // of changes is there for everyone: a run from another host or home must feed it too.
    if (job.snapshot && !job.changes && (await job.snapshot.hasChangeFeed(table))) {
      throw new UsageError(
        `${job.snapshot.label} keeps a table of changes (${table}_changes) fed by runs with --changes; add --changes FILE so that ` +
          'no change of the snapshot goes missing from it, or drop that table to end the feed',
      );
    }
    const folder = JobFolder.of(deps.home.jobsDir, source.name, key);
    // Recovery first: the interrupted run may have been the one that fed a change file.
    const previous = isJobRun(job.since, job.snapshot !== undefined)
      ? await recoverJob(store, source.name, key, folder, snapshot, deps.events)
      : detached
        ? undefined
        : await store.get(source.name, key);
    if (job.changes) await removeStaleTemps(job.changes);
    const role = roleOf(previous);
    await job.snapshot?.cleanStale();

    let since: number | undefined;
    if (job.since.kind === 'at') since = job.since.unix;
    else if (job.since.kind === 'last') {
      const mark = snapshot ? await snapshot.target.mark(table) : undefined;
      const start = jobStart(previous, job.snapshot?.label, mark);
      if (start.reason) deps.events.onFullPull?.(`${source.name}: ${start.reason}`);
      since = start.since;
    }
    const mode = since === undefined ? 'full' : 'incremental';
    await fs.mkdir(workDir, { recursive: true, mode: 0o700 });
    keepWork = source.paging === 'cursor';
    const streamNdjson = job.out?.target === '-' && job.out.format === 'ndjson';
    // The run's id and time, which its change events carry, from its start.
    const runAt = new Date();
    const runId = newRunId(runAt);
    // A full pull into a snapshot that does not exist yet builds it as the pages arrive (and
    // records its events, all inserts, as they arrive too).
    load =
      mode === 'full'
        ? await job.snapshot?.startLoad?.({
            table,
            keyFields: source.keyFields,
            ...(job.changes
              ? { changes: { runId, runAt: runAt.toISOString(), isActive: deps.isActive, file: path.join(workDir, 'load-events.ndjson') } }
              : {}),
          })
        : undefined;
    const scanned = await scan({
      client: deps.client,
      provider,
      source,
      params: job.params,
      since,
      pageSize: job.pageSize,
      concurrency: job.concurrency,
      workDir,
      echo: streamNdjson ? deps.stdout : undefined,
      signal: deps.signal,
      ...(load ? { onKept: load.add } : {}),
      onStart: ({ resumed }) => deps.events.onStart?.({ mode, since, resumed }),
      ...pick(deps.events, 'onPage', 'onWarning', 'onInfo'),
    });
    const { spool } = scanned;
    const view = spool.toSpool();
    // Without the server's Date (every real platform sends one), the scan's start on this
    // machine's clock caps the watermark: one row stamped in 2099 must not make every later
    // run ask for changes after 2099.
    const clockStart = scanned.serverStart ?? Math.floor(Date.parse(scanned.startedAt) / 1000);
    if (scanned.serverStart === undefined && (spool.maxUpdated ?? 0) > clockStart) {
      deps.events.onWarning?.(
        `some records are stamped after this machine's clock (newest ${spool.maxUpdatedText ?? '?'}), and the platform sent no Date; the watermark stops at the scan's start`,
      );
    }
    const unstable = spool.hasDuplicateKeys || scanned.totalMoved;
    const watermark = nextWatermark({
      since,
      maxSeen: spool.maxUpdated,
      serverStart: clockStart,
      unstable,
      granularity: provider.sync.granularity,
      overlapSeconds: job.overlapSeconds,
    });
    // A full pull during which rows moved may have missed a row that slipped onto a page
    // already read: merged as a refresh, that person would be deleted from the snapshot and
    // reported gone ("left today") only to come back next run. So such a pull only adds and
    // updates; the next run, a full pull again (the watermark held), deletes who is gone.
    const keepUnseen = mode === 'full' && unstable && snapshot !== undefined && (await snapshot.target.mark(table)) !== undefined;
    if (keepUnseen) {
      deps.events.onWarning?.(
        'rows moved during this full pull, so the people it did not see are kept this time, not deleted; the next run settles them',
      );
    }
    const committed = await commitRun({
      spool: view,
      mode: keepUnseen ? 'incremental' : mode,
      runId,
      runAt: runAt.toISOString(),
      sheetName: source.name,
      out: job.out && job.out.target !== '-' ? job.out : undefined,
      snapshot: snapshot && load ? { ...snapshot, load } : snapshot,
      changes: job.changes ? { file: job.changes, isActive: deps.isActive } : undefined,
      job: role.kind === 'job' ? { store, source: source.name, folder, previous } : undefined,
      outcome: (snapshotMark) => ({
        params: job.params,
        snapshot: job.snapshot?.id ?? null,
        runId,
        watermark,
        snapshotMark,
        wroteChanges: job.changes !== undefined,
        lastRun: {
          finishedAt: new Date().toISOString(),
          mode,
          since: since ?? null,
          records: spool.received,
          pages: scanned.pages,
          deleted: spool.deleted,
          serverTime: scanned.serverStart ?? null,
          maxUpdated: spool.maxUpdatedText ?? null,
          durationMs: Date.now() - Date.parse(scanned.startedAt),
        },
      }),
      workDir,
      prepareOutput: deps.prepareOutput,
      signal: deps.signal,
    });
    abandon = committed.abandon;
    if (job.out?.target === '-' && !streamNdjson) {
      const tmp = path.join(workDir, `stdout.${job.out.format}`);
      const p = await deps.prepareOutput(view, tmp, job.out.format, { sheetName: source.name });
      await p.commit();
      await deps.pipeFile(tmp);
    }
    keepWork = false;
    await fs.rm(workDir, { recursive: true, force: true });
    // From here on a changes file still in its temp file is the next run's evidence.
    abandon = undefined;
    await committed.saveState();
    const outputs = [job.out?.target, job.snapshot?.label, job.changes].filter((t): t is string => t !== undefined && t !== '-');
    return {
      mode,
      since,
      watermark,
      records: spool.received,
      deleted: spool.deleted,
      pages: scanned.pages,
      outputs,
      snapshot: committed.snapshot,
      changes: committed.changes,
      resumed: scanned.resumed,
      job: role.kind === 'job',
    };
  } catch (err) {
    await abandon?.();
    if (!keepWork) await fs.rm(workDir, { recursive: true, force: true });
    throw err;
  } finally {
    await load?.discard();
    await job.snapshot?.close();
    await lock.release();
  }
}

function pick<T extends object, K extends keyof T>(o: T, ...keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * The spool's folder: one per source and --param set, since only that decides what the pages
 * hold (one run per source at a time: the lock), so a killed cursor pull resumes whichever job
 * runs next with the same --since.
 */
function workName(source: string, params: Record<string, string>): string {
  const key = paramsKey(params);
  return key ? `${source}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}` : source;
}
