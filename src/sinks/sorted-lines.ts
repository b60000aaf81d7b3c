/** The shapes the external sort and its run files share (one module, so neither imports the other). */

/** What the sort needs to know about a line, computed once (the caller parses it). */
export interface LineFacts {
  key: string;
  deleted: boolean;
}

/** One record line (its original bytes) with its key and whether it is a tombstone. */
export interface KeyedLine extends LineFacts {
  /** Valid until the cursor has moved twice more: write it before moving on. */
  line: Buffer;
}

/** KeyedLines in ascending key order, one per key; next() returns a promise only to read. */
export interface SortedCursor {
  readonly current: KeyedLine | undefined;
  next(): void | Promise<void>;
  close(): Promise<void>;
}

/** Lines sorted by key, last occurrence per key; cursor() may be called more than once. */
export interface SortedRuns {
  cursor(): Promise<SortedCursor>;
  /** Removes the run files. Never throws. */
  dispose(): Promise<void>;
}

/** A line held by the sort: its facts and where its bytes sit in the chunk's arena. */
export interface ChunkEntry extends LineFacts {
  start: number;
  end: number;
}
