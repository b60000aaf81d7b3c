import { AtomicFile, writeError } from '../core/fs/atomic-file.js';
import { writeCsv } from './output-csv.js';
import { uniqueLineBatches } from '../core/sync/spool-reader.js';
import type { TextSink } from './text-sink.js';
import type { OutputFormat, OutputOptions, PreparedWrite, Spool } from '../core/sync/writers.js';

/**
 * exceljs is loaded only for an XLSX output. Why: importing it costs ~0.35 s and ~25 MB of
 * RSS on every run, a tenth of a million-record NDJSON pull's time (measured, bench/RESULTS.md).
 */
const loadXlsx = (): Promise<typeof import('./output-xlsx.js')> => import('./output-xlsx.js');

const csvOptions = (opts: OutputOptions): { raw: boolean } => ({ raw: opts.csvRaw === true });

async function writeNdjson(spool: Spool, out: TextSink): Promise<void> {
  for await (const batch of uniqueLineBatches(spool)) await out.write(batch.join('\n') + '\n');
}

/**
 * Writes the `-o FILE` output into a temp file next to `dest`, fsync'd but not yet visible:
 * commit() renames it into place, abort() removes it. The records are the spool's, one per key
 * (the last occurrence), tombstones included so that a consumer can apply them.
 */
export async function prepareOutput(spool: Spool, dest: string, format: OutputFormat, opts: OutputOptions): Promise<PreparedWrite> {
  // `-o /dev/null`, a FIFO or /dev/stdout is written in place, never replaced by a file.
  const file = await AtomicFile.create(dest, { writeThrough: true });
  try {
    if (format === 'ndjson' && !spool.hasDuplicateKeys) {
      // The spool already is the output: let the OS copy it (copy_file_range, or a reflink).
      await file.copyFrom(spool.path);
    } else if (format === 'ndjson') {
      await writeNdjson(spool, file);
    } else if (format === 'csv') {
      await writeCsv(spool, file, csvOptions(opts));
    } else {
      await (await loadXlsx()).writeXlsx(spool, file.stream, opts.sheetName);
    }
    await file.finish();
    return {
      commit: () => file.commit(),
      abort: () => file.abort(),
    };
  } catch (err) {
    await file.abort();
    throw writeError(err, file.dest);
  }
}
