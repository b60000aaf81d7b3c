/** Where a formatter writes text: an AtomicFile. */
export interface TextSink {
  write(text: string): Promise<void>;
}
