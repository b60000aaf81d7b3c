import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Where a formatter writes text: an AtomicFile, or standard output for `-o -`. */
export interface TextSink {
  write(text: string): Promise<void>;
}

/** A TextSink over any Writable, waiting for 'drain' when its buffer is full. Never ends it. */
export function writableSink(out: Writable): TextSink {
  return {
    async write(text) {
      if (out.errored) throw out.errored;
      if (!out.write(text)) await once(out, 'drain');
    },
  };
}
