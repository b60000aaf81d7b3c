import type { Row } from '../core/provider.js';
import { UpstreamError } from '../core/errors.js';

/** A lookup answer's records: one object, a list of them, or none (null); anything else is refused. */
export function recordsOf(data: unknown, path: string, provider: string): Row[] {
  if (data === null || data === undefined) return [];
  const list = Array.isArray(data) ? data : [data];
  for (const row of list) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new UpstreamError(`${provider} sent a record that is not an object for ${path}`);
    }
  }
  return list as Row[];
}
