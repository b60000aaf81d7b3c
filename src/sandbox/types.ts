/**
 * The sandbox's public types. Other engineers code against exactly these (see index.ts),
 * so changes here are interface changes.
 */

export const datasetIds = [
  'ecnu-users',
  'ecnu-staff',
  'ecnu-postdocs',
  'ecnu-students:本科生',
  'ecnu-students:研究生',
  'ecnu-undergrads',
  'ecnu-customized',
  'tongji-students',
  'tongji-staff',
  'tongji-postdocs',
] as const;

export type DatasetId = (typeof datasetIds)[number];

export function isDatasetId(value: unknown): value is DatasetId {
  return typeof value === 'string' && (datasetIds as readonly string[]).includes(value);
}

export const defaultPeople: Record<DatasetId, number> = {
  'ecnu-users': 600,
  'ecnu-staff': 250,
  'ecnu-postdocs': 40,
  'ecnu-students:本科生': 300,
  'ecnu-students:研究生': 200,
  'ecnu-undergrads': 300,
  'ecnu-customized': 50,
  // 2500 rows at 1000 per answer: a full pull takes 3 cursor pages.
  'tongji-students': 2500,
  'tongji-staff': 1200,
  'tongji-postdocs': 150,
};

export type MutationOp = 'update' | 'depart' | 'delete' | 'insert';
export const mutationOps = ['update', 'depart', 'delete', 'insert'] as const satisfies readonly MutationOp[];

export interface Mutation {
  dataset: DatasetId;
  op: MutationOp;
  key?: string;
  count?: number;
  fields?: Record<string, unknown>;
}

/** Each rate is a probability 0..1 per API request, drawn from a PRNG seeded with the sandbox seed. */
export interface FaultOptions {
  http500?: number;
  http503?: number;
  /** Answered with Retry-After: 1. */
  http429?: number;
  /** Destroy the socket without answering. */
  reset?: number;
  /** Send headers and half the body, then hang for stallMs before finishing. */
  stall?: number;
  stallMs?: number;
  /** Declare the full Content-Length, send the first half of the body, then close the connection. */
  truncated?: number;
  /** 200 with a body that is not JSON. */
  malformed?: number;
  /** ECNU API only: HTTP 200 with errCode 1108110525. */
  ecnuTransientErr?: number;
  /** Before handling a request, invalidate every issued token. */
  revokeTokens?: number;
}

export const faultKeys = [
  'http500',
  'http503',
  'http429',
  'reset',
  'stall',
  'stallMs',
  'truncated',
  'malformed',
  'ecnuTransientErr',
  'revokeTokens',
] as const satisfies readonly (keyof FaultOptions)[];

export interface SandboxOptions {
  port?: number;
  host?: string;
  seed?: number;
  people?: Partial<Record<DatasetId, number>>;
  clockSkewSeconds?: number;
  tokenLifetimeSeconds?: number;
  latencyMs?: number;
  ecnuTsCompare?: '>' | '>=';
  tongjiPageSize?: number;
  tongjiTrailingCursor?: boolean;
  tongjiUpdatePrecision?: 'day' | 'second';
  /**
   * postdoc_info rows with createTime and updateTime (default true). seeds/004's example rows
   * carry neither, so false serves them as documented; the client must cope either way.
   */
  tongjiPostdocTimes?: boolean;
  tongjiRateLimit?: number;
  ecnuStaffKeyField?: 'userId' | 'userid';
  faults?: FaultOptions;
}

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

export interface SandboxCredentials {
  ecnu: Credentials;
  tongji: Credentials;
}

export interface SandboxStats {
  requests: number;
  byPath: Record<string, number>;
}

export interface Sandbox {
  url: string;
  port: number;
  credentials: SandboxCredentials;
  mutate(m: Mutation): string[];
  truth(dataset: DatasetId, filters?: Record<string, string>): Record<string, unknown>[];
  keyField(dataset: DatasetId): string;
  setFaults(f: FaultOptions): void;
  setClockSkew(seconds: number): void;
  stats(): SandboxStats;
  /** Calls `listener` with the path of each API request as it arrives; returns the way to stop. */
  onRequest(listener: (path: string) => void): () => void;
  close(): Promise<void>;
}

export const SANDBOX_CREDENTIALS = {
  ecnu: { clientId: 'sandbox-ecnu', clientSecret: 'sandbox-ecnu-secret' },
  tongji: { clientId: 'sandbox-tongji', clientSecret: 'sandbox-tongji-secret' },
} as const satisfies SandboxCredentials;

/** The password every ECNU person has for the password grant. */
export const SANDBOX_PASSWORD = 'sandbox-password';
