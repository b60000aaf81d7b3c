import { z } from 'zod';
import { UpstreamError } from '../../core/errors.js';
import type { JsonAnswer } from '../../core/api-client.js';
import { platformText } from '../../core/terminal-text.js';

/** {"code":"A00000","data":{count,sinceUserId,userInfos},"msg"}; msg varies, so only code counts. */
export const envelopeSchema = z.object({
  code: z.string(),
  msg: z.string().nullish(),
  data: z.unknown(),
});

export const pageDataSchema = z.object({
  count: z.coerce.number().int().nonnegative().nullish(),
  sinceUserId: z.union([z.string(), z.number()]).nullish(),
  userInfos: z.array(z.unknown()).nullish(),
});

export function checkTongji(answer: JsonAnswer, path: string): z.infer<typeof envelopeSchema> {
  const parsed = envelopeSchema.safeParse(answer.body);
  if (!parsed.success) {
    throw new UpstreamError(`tongji sent an answer without the code envelope for ${path}`, { transient: true });
  }
  if (parsed.data.code !== 'A00000') {
    // The platform's words: escaped and capped before they reach a terminal.
    throw new UpstreamError(
      `tongji error for ${path}: code ${platformText(parsed.data.code, 40)}, msg '${platformText(parsed.data.msg ?? '')}'`,
      {
        reason: `code ${platformText(parsed.data.code, 40)}`,
      },
    );
  }
  return parsed.data;
}
