import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { AtomicFile, writeError } from './atomic-file.js';
import { writeCsv } from './output-csv.js';
import { uniqueLineBatches } from './spool-reader.js';
import { writableSink, type TextSink } from './text-sink.js';
import type { OutputFormat, OutputOptions, PreparedWrite, Spool } from './types.js';

/**
 * exceljs is loaded only for an XLSX output. Why: importing it costs ~0.35 s and ~25 MB of
 * RSS on every run, a tenth of a million-record NDJSON pull's time (measured, bench/RESULTS.md).
 */
const loadXlsx = (): Promise<typeof import('./output-xlsx.js')> => import('./output-xlsx.js');

const csvOptions = (opts: OutputOptions): { raw: boolean } => ({ raw: opts.csvRaw === true });

async function writeNdjson(spool: Spool, out: TextSink): Promise<number> {
  let count = 0;
  for await (const batch of uniqueLineBatches(spool)) {
    count += batch.length;
    await out.write(batch.join('\n') + '\n');
  }
  return count;
}

/**
 * Writes the `-o FILE` output into a temp file next to `dest`, fsync'd but not yet visible:
 * commit() renames it into place, abort() removes it. The records are the spool's, one per key
 * (the last occurrence), tombstones included so that a consumer can apply them.
 */
export async function prepareOutput(
  spool: Spool,
  dest: string,
  format: OutputFormat,
  opts: OutputOptions,
): Promise<PreparedWrite> {
  // `-o /dev/null`, a FIFO or /dev/stdout is written in place, never replaced by a file.
  const file = await AtomicFile.create(dest, { writeThrough: true });
  try {
    let count: number;
    if (format === 'ndjson' && !spool.hasDuplicateKeys) {
      // The spool already is the output: let the OS copy it (copy_file_range, or a reflink).
      await file.copyFrom(spool.path);
      count = spool.count;
    } else if (format === 'ndjson') {
      count = await writeNdjson(spool, file);
    } else if (format === 'csv') {
      count = await writeCsv(spool, file, csvOptions(opts));
    } else {
      count = await (await loadXlsx()).writeXlsx(spool, file.stream, opts.sheetName);
    }
    await file.finish();
    return {
      describe: `${count} record${count === 1 ? '' : 's'} → ${dest}`,
      commit: () => file.commit(),
      abort: () => file.abort(),
    };
  } catch (err) {
    await file.abort();
    throw writeError(err, file.dest);
  }
}

/**
 * The same output streamed to a Writable that stays open (`-o -`: standard output).
 * Returns the number of records.
 */
export async function writeOutput(
  spool: Spool,
  out: Writable,
  format: OutputFormat,
  opts: OutputOptions,
): Promise<number> {
  if (format === 'ndjson') return writeNdjson(spool, writableSink(out));
  if (format === 'csv') return writeCsv(spool, writableSink(out), csvOptions(opts));
  // exceljs ends the stream it writes to; standard output must stay open, so it gets a relay.
  const relay = new PassThrough();
  relay.pipe(out, { end: false });
  const count = await (await loadXlsx()).writeXlsx(spool, relay, opts.sheetName);
  await finished(relay);
  return count;
}
