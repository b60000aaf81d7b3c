import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { InterruptedError } from '../errors.js';
import type { JobState, StateStore } from '../state.js';
import type { Row } from '../provider.js';
import { AtomicFile } from '../fs/atomic-file.js';
import { BufferedWriter, writeAll } from '../fs/buffered-writer.js';
import type { OutputFormat, PreparedWrite, SnapshotResult, Spool } from './writers.js';
import { EventRecorder, type ChangeOp } from './changes.js';
import type { JobFolder, Journal } from './job-folder.js';
import { stateAfter, type RunOutcome } from './job.js';
import type { PreparedSnapshot, SnapshotLoad, SnapshotTarget } from './snapshot-target.js';

export type PrepareOutput = (spool: Spool, dest: string, format: OutputFormat, opts: { sheetName: string }) => Promise<PreparedWrite>;

export interface CommitRequest {
  spool: Spool;
  mode: 'full' | 'incremental';
  runId: string;
  runAt: string;
  sheetName: string;
  /** `-o FILE` (not stdout). */
  out: { target: string; format: OutputFormat } | undefined;
  snapshot: { target: SnapshotTarget; table: string; updateField: string; load?: SnapshotLoad } | undefined;
  changes: { file: string; isActive: (row: Row) => boolean } | undefined;
  /** The job whose state this run moves; undefined for a one-off. */
  job: { store: StateStore; source: string; folder: JobFolder; previous: JobState | undefined } | undefined;
  /** Everything about the run but the snapshot's mark, which only the prepared snapshot knows. */
  outcome: (snapshotMark: string | null) => RunOutcome;
  /** The run's own work folder (a one-off's events go there). */
  workDir: string;
  prepareOutput: PrepareOutput;
  signal: AbortSignal;
}

export interface CommitResult {
  snapshot: SnapshotResult | undefined;
  /** Events of this run, by kind; undefined without --changes. */
  changes: (Record<ChangeOp, number> & { delivered: number }) | undefined;
  /** Saves the job's state (nothing for a one-off), the run's commit point, then shows its changes file. */
  saveState(): Promise<void>;
  /** Removes a changes file prepared but not shown (the run failed before saveState). */
  abandon(): Promise<void>;
}

/** The run's events file, written as the snapshot's merge reports changes. */
async function openEvents(file: string, req: CommitRequest) {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const fh = await fs.open(file, 'w', 0o600);
  const out = new BufferedWriter((chunk) => writeAll(fh, chunk), 1 << 20);
  const recorder = new EventRecorder(req.runId, req.runAt, req.changes!.isActive, (line) => out.write(line));
  let adopted: number | undefined;
  return {
    recorder,
    /** The run's events, by kind: all inserts when adopted. */
    get counts(): Record<ChangeOp, number> {
      return adopted === undefined ? recorder.counts : { insert: adopted, update: 0, delete: 0 };
    },
    get count(): number {
      return adopted ?? recorder.count;
    },
    async close(): Promise<void> {
      await recorder.flush();
      await out.flush();
      await fh.sync();
      await fh.close();
    },
    /**
     * Takes the events a snapshot's load recorded instead (complete on disk) as the run's
     * events file, in place of the empty one. Both are under IDSYNC_HOME: a rename.
     */
    async adopt(from: { file: string; count: number }): Promise<void> {
      await fh.close();
      await fs.rename(from.file, file).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EXDEV') throw err; // folders of IDSYNC_HOME mounted apart
        await fs.copyFile(from.file, file);
        const copy = await fs.open(file, 'r+');
        await copy.sync().finally(() => copy.close());
      });
      adopted = from.count;
    },
    discard: () => fh.close().catch(() => undefined),
  };
}

/**
 * Copies event files, oldest first, into the changes file: complete on disk before it is renamed
 * into place. Streamed in 1 MB reads: a first pull's events are about 500 bytes a record, and
 * reading each file whole held 500 MB per million records.
 *
 * When the run's own events are all there is to deliver (the usual case), the changes file is
 * that events file, hard-linked: a first pull's 500 MB per million records are neither copied
 * nor fsync'd twice (measured: 1.4 s of a 16 s first run). Safe for exactly-once because the
 * job reads its copy again only when the run fails before saving its state, that is, while
 * the changes file is not delivered; a delivered file's events are never read again (the next
 * run prunes them), so a consumer editing it in place changes nothing idsync relies on.
 */
async function prepareChangesFile(
  dest: string,
  files: readonly string[],
  single?: { file: string; lines: number },
): Promise<{ file: AtomicFile; lines: number }> {
  const out = await AtomicFile.create(dest);
  let lines = 0;
  try {
    if (single && files.length === 1 && files[0] === single.file) {
      await out.linkFrom(single.file);
      await out.finish();
      return { file: out, lines: single.lines };
    }
    for (const f of files) {
      for await (const data of createReadStream(f, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lines++;
        await out.write(data);
      }
    }
    await out.finish();
    return { file: out, lines };
  } catch (err) {
    await out.abort();
    throw err;
  }
}

/**
 * Makes a scanned run durable, in an order a kill at any moment cannot break:
 * 1. every output, the snapshot's merge and the run's events are written, not yet visible;
 * 2. a job with a snapshot writes its commit journal (the state to save, the snapshot's mark
 *    once committed);
 * 3. the outputs and the snapshot commit;
 * 4. the changes file gets every event not yet delivered, this run's last, complete on disk in
 *    its temp file; the journal notes that file;
 * 5. the job's state is saved, then the changes file renamed into place (saveState(), the very
 *    last steps of the run).
 * A run killed between 2 and 5 is finished by the job's next run (see JobFolder): its events
 * come again, with the same run ids and sequence numbers, in that run's changes file; so do
 * those of a run killed between saving its state and the rename. So each change reaches
 * exactly one changes file, and a killed run leaves none of its own.
 */
export async function commitRun(req: CommitRequest): Promise<CommitResult> {
  const prepared: PreparedWrite[] = [];
  const seq = (req.job?.previous?.runs ?? 0) + 1;
  const eventsPath = req.job ? req.job.folder.eventsFile(seq, req.runId) : path.join(req.workDir, 'events.ndjson');
  let events: Awaited<ReturnType<typeof openEvents>> | undefined;
  let snap: PreparedSnapshot | undefined;
  let journal: Journal | undefined;
  try {
    if (req.out) prepared.push(await req.prepareOutput(req.spool, req.out.target, req.out.format, { sheetName: req.sheetName }));
    if (req.snapshot) {
      if (req.changes) events = await openEvents(eventsPath, req);
      snap = await req.snapshot.target.prepare(req.spool, {
        mode: req.mode,
        table: req.snapshot.table,
        updateField: req.snapshot.updateField,
        runId: req.runId,
        runAt: req.runAt,
        ...(events ? { changes: events.recorder } : {}),
        ...(req.snapshot.load ? { load: req.snapshot.load } : {}),
      });
      prepared.push(snap);
      if (events && snap.loadedEvents) await events.adopt(snap.loadedEvents);
      else await events?.close();
    }
    if (req.signal.aborted) throw new InterruptedError(String(req.signal.reason));
    if (req.job && snap) {
      const state = stateAfter(req.job.previous, req.outcome(snap.markAfterCommit), false);
      journal = { version: 1, run: req.runId, seq, markAfterCommit: snap.markAfterCommit, state };
      await req.job.folder.writeJournal(journal);
    }
    for (const p of prepared) await p.commit();
  } catch (err) {
    await events?.discard();
    for (const p of prepared) await p.abort();
    throw err;
  }

  let delivered = 0;
  let delivery: AtomicFile | undefined;
  if (req.changes) {
    const job = req.job;
    const files = job
      ? (await job.folder.eventFiles()).filter((f) => f.seq > (job.previous?.deliveredThrough ?? 0) && f.seq <= seq).map((f) => f.file)
      : [eventsPath];
    const own = events ? { file: eventsPath, lines: events.count } : undefined;
    const prepared = await prepareChangesFile(req.changes.file, files, own);
    delivered = prepared.lines;
    if (job && journal) {
      // Visible only after the state is saved (saveState): a run killed before that leaves no
      // new changes file, and the journal lets the next run tell whether the rename happened.
      const st = await fs.stat(prepared.file.tempPath);
      const from = job.previous?.deliveredThrough ?? 0;
      await job.folder
        .writeJournal({ ...journal, delivery: { temp: prepared.file.tempPath, dest: prepared.file.dest, dev: st.dev, ino: st.ino, from } })
        .catch(async (err: unknown) => {
          await prepared.file.abort();
          throw err;
        });
      delivery = prepared.file;
    } else {
      await prepared.file.commit(); // a one-off: no state to wait for
    }
  }
  const job = req.job;
  const state = job ? stateAfter(job.previous, req.outcome(snap?.markAfterCommit ?? null), req.changes !== undefined) : undefined;
  return {
    snapshot: snap?.result,
    changes: events ? { ...events.counts, delivered } : undefined,
    // The run's last durable acts, left to the caller so that nothing but releasing the lock
    // comes after them: the state saved, then the changes file renamed into place. A run killed
    // between the two has its file delivered by the next run (JobFolder.delivered); one killed
    // after both, in its last milliseconds, exits non-zero with its file delivered.
    // The journal and the delivered events are cleared by the job's next run.
    saveState: async () => {
      if (job && state) await job.store.put(job.source, state);
      await delivery?.commit();
    },
    abandon: async () => {
      await delivery?.abort();
    },
  };
}
