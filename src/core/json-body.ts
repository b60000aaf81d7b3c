import { UpstreamError } from './errors.js';
import type { HttpResponse } from './http.js';
import { platformText } from './terminal-text.js';

/**
 * Deeper than any platform answer (an envelope, a page, a row: depth 4) by far, and far below
 * what JSON.stringify and the other recursive readers survive: a 5,000-deep answer used to end
 * the run with "Maximum call stack size exceeded".
 */
export const maxJsonDepth = 200;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Media types an answer may carry and still be read as JSON: JSON itself, or nothing said. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === '' || type === 'application/json' || type.endsWith('+json') || type === 'text/json' || type === 'text/plain';
}

/**
 * The body of a JSON answer, strictly: declared as JSON (a gateway's text/html page is not an
 * answer even when it parses), valid UTF-8 (not silently patched with U+FFFD), nested no deeper
 * than `maxJsonDepth`. Each failure is an UpstreamError naming `what`; an HTML page or a torn
 * body is transient (a gateway's bad moment), a too-deep one is not.
 */
export function decodeJsonBody(res: HttpResponse, what: string): unknown {
  const type = res.headers['content-type'];
  if (!isJsonContentType(type)) {
    throw new UpstreamError(`${what}: the answer is ${platformText(type, 60)}, not JSON (HTTP ${res.status}, ${res.body.length} bytes)`, {
      transient: true,
      status: res.status,
      reason: 'not JSON',
    });
  }
  let text: string;
  try {
    text = utf8.decode(res.body);
  } catch {
    throw new UpstreamError(`${what}: the answer is not valid UTF-8 (HTTP ${res.status}, ${res.body.length} bytes)`, {
      transient: true,
      status: res.status,
      reason: 'not UTF-8',
    });
  }
  const depth = jsonDepth(res.body);
  if (depth > maxJsonDepth) {
    throw new UpstreamError(`${what}: the answer is nested more than ${maxJsonDepth} levels deep; no platform answer is`, {
      status: res.status,
      reason: 'too deep',
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    // A torn or non-JSON body is usually the network's fault.
    throw new UpstreamError(`${what}: the answer is not JSON (HTTP ${res.status}, ${res.body.length} bytes)`, {
      transient: true,
      status: res.status,
      reason: 'not JSON',
    });
  }
}

/**
 * The deepest nesting of brackets outside strings, stopping early once past the limit. Scans
 * the bytes: in UTF-8 no byte of a multi-byte character is below 0x80, so quotes, backslashes
 * and brackets are single bytes, and a string is skipped with a native indexOf of its closing
 * quote. Measured on a 3 MB page of ECNU-like rows: 9 ms against 39 ms for JSON.parse.
 */
export function jsonDepth(bytes: Uint8Array, stopAt: number = maxJsonDepth): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    const c = bytes[i];
    if (c === 34) {
      // The closing quote is the next one not escaped by an odd run of backslashes.
      let end = i;
      for (;;) {
        end = bytes.indexOf(34, end + 1);
        if (end < 0) return deepest;
        let k = end - 1;
        while (bytes[k] === 92) k -= 1;
        if ((end - 1 - k) % 2 === 0) break;
      }
      i = end;
    } else if (c === 91 || c === 123) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAt) return deepest;
      }
    } else if (c === 93 || c === 125) {
      depth -= 1;
    }
  }
  return deepest;
}
