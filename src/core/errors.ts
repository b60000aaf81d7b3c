/**
 * Errors that reach the user. Each carries the process exit code; only the top-level
 * handler in cli.ts prints them and sets process.exitCode (no process.exit in library code).
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  upstream: 4,
  network: 5,
  locked: 6,
  partial: 7,
  interrupted: 130,
} as const;

export class IdsyncError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad command line or configuration: reported before any network call. */
export class UsageError extends IdsyncError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** Missing or rejected credentials. */
export class AuthError extends IdsyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.auth, options);
  }
}

/** The platform answered, but with an error (errCode, non-2xx, malformed page). */
export class UpstreamError extends IdsyncError {
  /** Whether retrying the same request may succeed (5xx, 429, ECNU 1108110525, torn body). */
  readonly transient: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** A few words for a spinner's retry line ("HTTP 503", "not JSON"). */
  readonly reason: string;
  constructor(
    message: string,
    opts: { transient?: boolean; status?: number; retryAfterMs?: number; reason?: string; cause?: unknown } = {},
  ) {
    super(message, ExitCode.upstream, { cause: opts.cause });
    this.transient = opts.transient ?? false;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.reason = opts.reason ?? (opts.status !== undefined ? `HTTP ${opts.status}` : 'a bad answer');
  }
}

/** The platform could not be reached (DNS, refused, reset, timeout) after every retry. */
export class NetworkError extends IdsyncError {
  /** Whether another attempt may succeed (refused, reset, timed out; not a missing host). */
  readonly transient: boolean;
  /** A few words for a spinner's retry line ("connection refused"). */
  readonly reason: string;
  constructor(message: string, options?: { cause?: unknown; transient?: boolean; reason?: string }) {
    super(message, ExitCode.network, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.transient = options?.transient ?? false;
    this.reason = options?.reason ?? 'network error';
  }
}

/** Another run holds the lock of this source. */
export class LockedError extends IdsyncError {
  constructor(message: string) {
    super(message, ExitCode.locked);
  }
}

/**
 * Stops a run on SIGINT or SIGTERM. What the user reads comes from cli.ts's report(), which
 * knows the signal even when another error (an aborted request) is what reached it.
 */
export class InterruptedError extends IdsyncError {
  constructor(signal: string) {
    super(`interrupted by ${signal}`, ExitCode.interrupted);
  }
}

export function isIdsyncError(err: unknown): err is IdsyncError {
  return err instanceof IdsyncError;
}
