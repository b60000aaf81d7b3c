import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEndpoints } from '../../src/core/endpoints.js';
import { joinUrl } from '../../src/core/http.js';
import { UsageError } from '../../src/core/errors.js';
import { allSources, findSource } from '../../src/providers/source-registry.js';

describe('resolveEndpoints', () => {
  it('defaults to the platforms and derives the token URL', () => {
    const e = resolveEndpoints('ecnu', {});
    expect(e.baseUrl.href).toBe('https://api.ecnu.edu.cn/');
    expect(e.tokenUrl.href).toBe('https://api.ecnu.edu.cn/oauth2/token');
    expect(resolveEndpoints('tongji', {}).tokenUrl.href).toBe('https://api.tongji.edu.cn/v1/token');
  });

  it.each(['http://127.0.0.1:8080', 'http://localhost:1', 'http://[::1]:9', 'http://127.9.9.9'])('allows loopback %s', (url) => {
    expect(resolveEndpoints('ecnu', { IDSYNC_ECNU_BASE_URL: url }).baseUrl.protocol).toBe('http:');
  });

  it.each(['http://api.ecnu.edu.cn', 'http://10.0.0.1', 'http://127.0.0.1.evil.com', 'ftp://x', 'not a url'])('refuses %s', (url) => {
    expect(() => resolveEndpoints('ecnu', { IDSYNC_ECNU_BASE_URL: url })).toThrow(UsageError);
  });

  it('honours a separate token URL and keeps a base path', () => {
    const e = resolveEndpoints('tongji', {
      IDSYNC_TONGJI_BASE_URL: 'https://gw.example.edu/tj/',
      IDSYNC_TONGJI_TOKEN_URL: 'https://sso.example.edu/token',
    });
    expect(e.tokenUrl.href).toBe('https://sso.example.edu/token');
    expect(joinUrl(e.baseUrl, '/v2/dc/user/student_infos', { a: '1' }).href).toBe('https://gw.example.edu/tj/v2/dc/user/student_infos?a=1');
  });
});

describe('sources', () => {
  it('lists the built-in sources of CLI.md', () => {
    const names = allSources('/nonexistent/sources.json').map((s) => s.name);
    expect(names).toEqual([
      'ecnu-users',
      'ecnu-staff',
      'ecnu-postdocs',
      'ecnu-students',
      'ecnu-undergrads',
      'tongji-students',
      'tongji-staff',
      'tongji-postdocs',
    ]);
  });

  it('reads user-declared ECNU customised endpoints and validates them', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-src-'));
    const file = path.join(dir, 'sources.json');
    await fs.writeFile(file, JSON.stringify({ sources: [{ name: 'ecnu-cards', path: '/api/v1/customized/cards', key: 'cardNo' }] }));
    const s = findSource('ecnu-cards', file);
    expect(s).toMatchObject({ provider: 'ecnu', paging: 'page-number', keyFields: ['cardNo'], custom: true });
    await fs.writeFile(file, JSON.stringify({ sources: [{ name: 'ecnu-users', path: '/x', key: 'k' }] }));
    expect(() => allSources(file)).toThrow(/clashes/);
    await fs.writeFile(file, JSON.stringify({ sources: [{ name: 'Bad Name', path: '/x', key: 'k' }] }));
    expect(() => allSources(file)).toThrow(UsageError);
    expect(() => findSource('nope', '/nonexistent')).toThrow(/unknown source 'nope'/);
    await fs.rm(dir, { recursive: true });
  });
});
