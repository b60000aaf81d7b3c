import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeTerminal, platformText } from '../../src/core/terminal-text.js';
import { renderTable } from '../../src/lookup/record-output.js';
import { idsync } from '../support/cli.js';
import { tempDir } from '../support/env.js';
import { ecnuOk, forged, hostileEnv, rawControl, sendJson, startHostile, type HostileServer } from './hostile-server.js';

/**
 * Issue 11, item 4: whatever a server says reaches the terminal escaped and capped: errMsg, msg,
 * OAuth error and error_description, HTTP error bodies, lookup table cells. A forged
 * `\r\nidsync: all 1000 records synced OK` stays visibly one escaped piece of one line.
 */

let h: HostileServer;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(() => h.close());

const forgedEscaped = '\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u202etxt.exe\\r\\nidsync: all 1000 records synced OK';

/** stderr holds no raw control character and no line that starts with the forged message. */
function expectDefused(stderr: string, shown = forgedEscaped): void {
  const lines = stderr.split('\n').filter(Boolean);
  for (const line of lines) expect(line, JSON.stringify(line)).not.toMatch(rawControl);
  expect(lines.some((l) => l.startsWith('idsync: all 1000'))).toBe(false);
  expect(stderr).toContain(shown);
}

async function run(args: string[]) {
  const home = await tempDir();
  return idsync(args, hostileEnv(h, home));
}

describe('platform messages on stderr', () => {
  it('escapes an ECNU errMsg', async () => {
    h.route('/api/v1/sync/userinfo/rsuserinfo', (_req, res) =>
      sendJson(res, 200, { errCode: 1108110301, errMsg: forged, requestId: 'r\u001b[1m', data: null }),
    );
    const r = await run(['pull', 'ecnu-staff', '-o', '-']);
    expect(r.exitCode).toBe(4);
    expectDefused(String(r.stderr));
    expect(String(r.stderr)).toContain('requestId r\\u001b[1m');
  });

  it('escapes a Tongji msg', async () => {
    h.route('/v2/dc/user/teacher_infos', (_req, res) => sendJson(res, 200, { code: 'B00001', msg: forged, data: null }));
    const r = await run(['pull', 'tongji-staff', '-o', '-']);
    expect(r.exitCode).toBe(4);
    expectDefused(String(r.stderr));
  });

  it('escapes an OAuth error and error_description', async () => {
    h.route('/oauth2/token', (_req, res) => sendJson(res, 401, { error: forged, error_description: `why: ${forged}` }));
    try {
      const r = await run(['pull', 'ecnu-staff', '-o', '-']);
      expect(r.exitCode).toBe(3);
      // An OAuth error code is capped at 80 characters: the forged line is cut as well as escaped.
      expectDefused(String(r.stderr), `(HTTP 401: ${forgedEscaped.slice(0, 80)}…)`);
    } finally {
      h.route('/oauth2/token', (_req, res) => sendJson(res, 200, { access_token: 'ok', expires_in: 7200 }));
    }
  });

  it('escapes an HTTP error body', async () => {
    h.route('/api/v1/sync/userinfo/bsh', (_req, res) => {
      res.writeHead(418, { 'content-type': 'text/plain' });
      res.end(forged);
    });
    const r = await run(['pull', 'ecnu-postdocs', '-o', '-']);
    expect(r.exitCode).toBe(4);
    // Whitespace runs in a body are folded to one space: the forged CR LF becomes a space.
    const stderr = String(r.stderr);
    for (const line of stderr.split('\n').filter(Boolean)) expect(line).not.toMatch(rawControl);
    expect(stderr).toContain('\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u202etxt.exe idsync: all 1000');
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('caps the length of a platform message', async () => {
    h.route('/api/v1/sync/userinfo', (_req, res) => sendJson(res, 200, { errCode: 1108110304, errMsg: 'x'.repeat(100_000), data: null }));
    const r = await run(['pull', 'ecnu-users', '-o', '-']);
    expect(r.exitCode).toBe(4);
    const stderr = String(r.stderr);
    expect(stderr.length).toBeLessThan(1000);
    expect(stderr).toMatch(/x{100}…'/);
  });
});

describe('lookup tables', () => {
  it('escape C0, C1 and bidi characters in cells and field names', () => {
    const text = renderTable([{ userId: '1', 'na\u202eme': 'a\u009b2Jb\u2066c\u0007' }]);
    expect(text).not.toMatch(rawControl);
    expect(text).toContain('na\\u202eme');
    expect(text).toContain('a\\u009b2Jb\\u2066c\\u0007');
  });

  it('escape a forged record in `lookup --format table`, while NDJSON stays exact', async () => {
    h.route('/api/v1/user/info', (_req, res) => sendJson(res, 200, ecnuOk([{ userId: '10001', name: forged }])));
    const table = await run(['lookup', '10001', '--provider', 'ecnu', '--format', 'table']);
    expect(table.exitCode).toBe(0);
    expect(String(table.stdout)).not.toMatch(rawControl);
    expect(String(table.stdout)).toContain(forgedEscaped);
    const ndjson = await run(['lookup', '10001', '--provider', 'ecnu', '--format', 'ndjson']);
    expect(JSON.parse(String(ndjson.stdout))).toEqual({ userId: '10001', name: forged });
  });
});

describe('escapeTerminal and platformText', () => {
  it('leave ordinary text, CJK and emoji alone', () => {
    expect(escapeTerminal('张三 — café 👩‍💻 ok')).toBe('张三 — café 👩‍💻 ok');
  });

  it('make every C0, C1 and bidi control visible', () => {
    for (let c = 0; c < 0x20; c += 1) expect(escapeTerminal(String.fromCharCode(c))).toMatch(/^\\/);
    for (let c = 0x7f; c <= 0x9f; c += 1) expect(escapeTerminal(String.fromCharCode(c))).toMatch(/^\\u00[789]/);
    for (const c of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
      expect(escapeTerminal(String.fromCharCode(c))).toBe(`\\u${c.toString(16)}`);
    }
  });

  it('cut long text without splitting an escape', () => {
    expect(platformText('a'.repeat(500), 10)).toBe(`${'a'.repeat(10)}…`);
    expect(platformText(`abcdefgh\u001b[2J`, 10)).toBe('abcdefgh…');
    expect(platformText('short')).toBe('short');
  });
});
