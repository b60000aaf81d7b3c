import { json, requestId, type Reply } from './http-util.js';

/** Error codes named in API.md; every one comes back with HTTP 200. */
export const EcnuErr = {
  validation: 1108110301,
  badValue: 1108110304,
  missing: 1108110519,
  internal: 1108110525,
} as const;

export function ecnuOk(data: unknown): Reply {
  return json(200, { data, errCode: 0, errMsg: 'success', requestId: requestId(), apiLog: null });
}

export function ecnuError(errCode: number, errMsg: string): Reply {
  return json(200, { errCode, errMsg, requestId: requestId(), data: null, apiLog: null });
}
