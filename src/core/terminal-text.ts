/**
 * Text that came from a server (errMsg, msg, OAuth errors, HTTP error bodies, record values in a
 * table) must not drive the terminal it is printed on. A platform message holding
 * `ESC]0;…BEL ESC[2J … \r\nidsync: all records synced OK` would retitle the window, clear the
 * screen and forge an idsync line; bidi overrides would make text read differently than it is.
 * All of these are shown as visible escapes instead (`\u001b`, `\r`, `\u202e`).
 */

// C0 controls, DEL, C1 controls (U+0080–U+009F: 8-bit CSI and OSC on some terminals), bidi
// marks, embeddings, overrides and isolates, and the Unicode line and paragraph separators.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(ch: string): string {
  const known = named[ch];
  if (known) return known;
  // JSON's spelling (`\u001b`), so a person can paste it into a JSON string to get it back.
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Every control and bidi character made visible; the rest of the text as it was. */
export function escapeTerminal(text: string): string {
  return text.replace(unsafe, escapeChar);
}

/** The default cap for one piece of platform text inside a message. */
export const platformTextLimit = 200;

/**
 * Platform text for a one-line message: escaped, then cut to `max` characters (a whole code
 * point at the end, never half an escape) with an ellipsis, so a server cannot flood stderr.
 */
export function platformText(value: unknown, max: number = platformTextLimit): string {
  const raw = typeof value === 'string' ? value : String(value);
  // Escaping at most 6× the cap's worth of input keeps a 1 GB message from being escaped whole.
  const escaped = escapeTerminal(raw.length > max * 6 ? raw.slice(0, max * 6) : raw);
  if (escaped.length <= max && raw.length <= max * 6) return escaped;
  let cut = escaped.slice(0, max);
  // Do not end inside an escape sequence such as `\u20` or half of a surrogate pair.
  const partial = /\\(?:u[0-9a-f]{0,3})?$/.exec(cut);
  if (partial) cut = cut.slice(0, partial.index);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
