import { z } from 'zod';
import { UpstreamError } from '../../core/errors.js';
import type { JsonAnswer } from '../../core/api-client.js';
import { platformText } from '../../core/terminal-text.js';

/** ECNU wraps every answer: {data, errCode, errMsg, requestId, apiLog} (seeds/000, 001). */
export const envelopeSchema = z.object({
  errCode: z.union([z.number(), z.string()]),
  errMsg: z.string().nullish(),
  requestId: z.string().nullish(),
  data: z.unknown(),
});

/** Validate the envelope and the paging fields only: rows pass through untouched (and fast). */
export const syncDataSchema = z.object({
  // A number, or digits as text: z.coerce read "" and null as 0, and a full page with a total
  // of 0 ended the scan after it (the other rows lost, and a full refresh deleted them).
  totalNum: z
    .union([
      z.number(),
      z
        .string()
        .regex(/^\s*\d+\s*$/)
        .transform(Number),
    ])
    .pipe(z.number().int().nonnegative()),
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
    // errMsg and requestId are the platform's words: escaped and capped before they reach a terminal.
    throw new UpstreamError(
      `ecnu error for ${path}: errCode ${platformText(code, 40)}, errMsg '${platformText(env.errMsg ?? '')}', requestId ${platformText(env.requestId ?? 'none', 80)}`,
      { transient: transientCodes.has(code), reason: `errCode ${platformText(code, 40)}` },
    );
  }
  return env;
}
