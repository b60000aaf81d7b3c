import { z } from 'zod';
import { UpstreamError } from '../../core/errors.js';
import type { JsonAnswer } from '../../core/api-client.js';

/** ECNU wraps every answer: {data, errCode, errMsg, requestId, apiLog} (seeds/000, 001). */
export const envelopeSchema = z.object({
  errCode: z.union([z.number(), z.string()]),
  errMsg: z.string().nullish(),
  requestId: z.string().nullish(),
  data: z.unknown(),
});

/** Validate the envelope and the paging fields only: rows pass through untouched (and fast). */
export const syncDataSchema = z.object({
  totalNum: z.coerce.number().int().nonnegative(),
  pageSize: z.coerce.number().int().positive().nullish(),
  pageNum: z.coerce.number().int().positive().nullish(),
  rows: z.array(z.unknown()).nullish(),
});

// 1108110525 is the platform's "internal error" (API.md): worth another attempt.
const transientCodes = new Set(['1108110525']);

export function checkEnvelope(answer: JsonAnswer, path: string): z.infer<typeof envelopeSchema> {
  const parsed = envelopeSchema.safeParse(answer.body);
  if (!parsed.success) {
    throw new UpstreamError(`ecnu sent an answer without the errCode envelope for ${path}`, { transient: true });
  }
  const env = parsed.data;
  if (String(env.errCode) !== '0') {
    const code = String(env.errCode);
    throw new UpstreamError(
      `ecnu error for ${path}: errCode ${code}, errMsg '${env.errMsg ?? ''}', requestId ${env.requestId ?? 'none'}`,
      { transient: transientCodes.has(code) },
    );
  }
  return env;
}
