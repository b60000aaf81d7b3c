import type { HttpResponse } from '../../core/http.js';
import { UpstreamError } from '../../core/errors.js';
import type { PhotoSource } from '../../core/people.js';
import { platformText } from '../../core/terminal-text.js';
import { checkEnvelope } from './envelope.js';

const PHOTO_PATH = '/api/v1/user/photo';

function jsonOf(res: HttpResponse): unknown {
  const type = res.headers['content-type'] ?? '';
  if (!/json/i.test(type) && res.body[0] !== 0x7b) return undefined;
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function transientOnly(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof UpstreamError && err.transient) throw err;
  }
}

/** ECNU answers an unknown id with HTTP 200 and an errCode JSON body instead of a JPEG (seeds/001). */
export const ecnuPhoto: PhotoSource = {
  fetch: (client, userId) =>
    client.getRaw(PHOTO_PATH, userId !== undefined ? { userId } : {}, (r) => {
      // A transient errCode (1108110525) is worth a retry, like any other ECNU answer.
      const answer = jsonOf(r);
      if (answer !== undefined) transientOnly(() => checkEnvelope({ body: answer, serverTime: undefined, headers: r.headers }, PHOTO_PATH));
    }),
  refusal: (res) => {
    const answer = jsonOf(res);
    if (answer === undefined) return undefined;
    const env = answer as { errCode?: unknown; errMsg?: unknown; requestId?: unknown };
    if (env.errCode !== undefined && String(env.errCode) !== '0') {
      // The platform's words, escaped and capped before they reach a terminal.
      return `no photo: ecnu errCode ${platformText(String(env.errCode), 40)}, errMsg '${platformText(String(env.errMsg ?? ''))}', requestId ${platformText(String(env.requestId ?? 'none'), 80)}`;
    }
    return 'no photo: ecnu answered JSON instead of a JPEG';
  },
};
