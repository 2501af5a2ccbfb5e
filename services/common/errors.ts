/** An error with a stable code and whether trying again may succeed. */
export class PodwatchError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'PodwatchError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}

/** A mistake in the user's configuration or command line: reported without a stack trace. */
export class UserError extends PodwatchError {
  constructor(message: string, code = 'E_USER') {
    super(code, message);
    this.name = 'UserError';
  }
}


export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Whether a connection error is a TLS certificate failure (untrusted chain, wrong host name, a
 * client certificate the server rejected): a configuration mistake, not an outage.
 */
export function isCertificateError(message: string): boolean {
  return /certificate|SSL routines|unable to (verify|get local issuer)|Hostname\/IP does not match/i.test(message);
}
