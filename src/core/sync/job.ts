import { UsageError } from '../errors.js';
import { shellWord } from '../shell-word.js';
import type { JobState, LastRun } from '../state.js';

export type SinceSpec = { kind: 'last' } | { kind: 'full' } | { kind: 'at'; unix: number };

/**
 * A job's own run moves its state; any other run is a one-off that leaves every state alone
 * (CLI.md, "The job and its state").
 */
export type RunRole = { kind: 'job'; refresh: boolean } | { kind: 'one-off' };

export interface RoleInput {
  source: string;
  params: Readonly<Record<string, string>>;
  since: SinceSpec;
  /** The snapshot target's identity, when the run has one. */
  snapshot: string | undefined;
  changes: boolean;
  /** The state of the job this run would be: same source, params and snapshot. */
  state: JobState | undefined;
}

/** Decides what a run is, refusing the runs that would make a job's snapshot and state disagree. */
export function runRole(input: RoleInput): RunRole {
  const { since, snapshot, state } = input;
  const role: RunRole = isJobRun(since, snapshot !== undefined) ? { kind: 'job', refresh: since.kind === 'full' } : { kind: 'one-off' };
  if (since.kind === 'at' && snapshot !== undefined && state !== undefined) {
    throw new UsageError(
      `${snapshot} is the snapshot of a job (its --since last runs): a run from another moment would leave the ` +
        "snapshot and the job's state disagreeing; use --since last, a full refresh (--since 0) or another snapshot",
    );
  }
  if (role.kind === 'job' && state?.changesFed && !input.changes) {
    throw new UsageError(
      `the job of ${input.source} into ${snapshot ?? '(no snapshot)'} has fed a change file; add --changes FILE so that ` +
        `no change of its snapshot goes unreported (or start the job over: ${resetCommand(input)})`,
    );
  }
  return role;
}

/** A job as the options that name it: `--param k=v … --snapshot TARGET` (or `--no-snapshot`). */
export function jobOptions(params: Readonly<Record<string, string>>, snapshot: string | null | undefined): string[] {
  const words: string[] = [];
  for (const [k, v] of Object.entries(params)) words.push('--param', `${k}=${v}`);
  words.push(...(snapshot == null ? ['--no-snapshot'] : ['--snapshot', snapshot]));
  return words;
}

/** The command that resets this one job, not every job of the source. */
export function resetCommand({
  source,
  params,
  snapshot,
}: {
  source: string;
  params: Readonly<Record<string, string>>;
  snapshot: string | null | undefined;
}): string {
  return ['idsync', 'state', 'reset', source, ...jobOptions(params, snapshot)].map(shellWord).join(' ');
}

/** `--since last` runs, and full pulls into a snapshot (a refresh), are the job's own. */
export function isJobRun(since: SinceSpec, hasSnapshot: boolean): boolean {
  return since.kind === 'last' || (since.kind === 'full' && hasSnapshot);
}

export interface JobStart {
  /** undefined: a full pull. */
  since: number | undefined;
  /** Why a --since last run is a full pull: said on stderr even with --quiet. */
  reason?: string;
}

/**
 * Where a `--since last` run starts: after the job's watermark, unless its snapshot is gone or
 * is not the one the job last wrote (a merge into it would leave a hole).
 * `mark` is the snapshot's current mark (undefined: missing); `snapshot` its label.
 */
export function jobStart(state: JobState | undefined, snapshot: string | undefined, mark: string | undefined): JobStart {
  if (state === undefined) return { since: undefined, reason: 'no saved state for this job yet: doing a full pull' };
  if (state.watermark === null) return { since: undefined, reason: 'the last run of this job saved no watermark: doing a full pull' };
  if (snapshot !== undefined) {
    if (mark === undefined) return { since: undefined, reason: `snapshot ${snapshot} is missing: doing a full pull` };
    // A job carried over from state version 1 recorded no mark; its snapshot is taken as it is.
    if (state.snapshotMark !== null && mark !== state.snapshotMark) {
      return {
        since: undefined,
        reason: `snapshot ${snapshot} is not the one this job last wrote (replaced or restored): doing a full pull`,
      };
    }
  }
  return { since: state.watermark };
}

export interface RunOutcome {
  params: Record<string, string>;
  snapshot: string | null;
  runId: string;
  watermark: number | undefined;
  snapshotMark: string | null;
  wroteChanges: boolean;
  lastRun: LastRun;
}

/**
 * The job's state once a run is committed: a pure function of what was durably written.
 * `delivered` says whether the run's events reached a changes file (they may not have yet when
 * this is the state a restarted run rolls forward to).
 */
export function stateAfter(previous: JobState | undefined, run: RunOutcome, delivered: boolean): JobState {
  const runs = (previous?.runs ?? 0) + 1;
  return {
    params: run.params,
    snapshot: run.snapshot,
    watermark: run.watermark ?? null,
    snapshotMark: run.snapshotMark,
    runs,
    lastRunId: run.runId,
    changesFed: (previous?.changesFed ?? false) || run.wroteChanges,
    deliveredThrough: delivered ? runs : (previous?.deliveredThrough ?? 0),
    lastRun: run.lastRun,
  };
}
