import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/core/http.js';

describe('redactUrl (the --verbose request line)', () => {
  it('hides secrets, masks ID-card numbers and shows filters', () => {
    const url = new URL(
      'https://api.example.edu.cn/v1/q?access_token=t0k&code=oauth-code&client_secret=s&zjhm=32010219750414138X&statusCode=-1&deptCode=030&userTypeCode=1&appKey=k3y',
    );
    const line = redactUrl(url);
    expect(line).toContain('access_token=***');
    expect(line).toContain('code=***');
    expect(line).toContain('client_secret=***');
    expect(line).toContain('appKey=***');
    expect(line).toContain('zjhm=320***********138X');
    expect(line).toContain('statusCode=-1');
    expect(line).toContain('deptCode=030');
    expect(line).toContain('userTypeCode=1');
    for (const secret of ['t0k', 'oauth-code', '=s&', 'k3y', '32010219750414138X']) expect(line).not.toContain(secret);
  });
});
