/**
 * The few typed errors flotilla throws. Each has a stable `code` that scripts may match on,
 * and an `exitCode` the CLI uses. Failures of a probed target are NOT errors: probes return values.
 */
import { redactText } from './redact-url.ts';

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'USAGE'
  | 'PLAN_REFUSED'
  | 'DRIVER_AUTH'
  | 'DRIVER_NOT_FOUND'
  | 'DRIVER_RATE_LIMITED'
  | 'DRIVER_FAILED'
  | 'DRIVER_CONFLICT'
  | 'STATE_CONFLICT'
  | 'STATE_CORRUPT'
  | 'STATE_UNAVAILABLE'
  | 'TOOL_MISSING'
  | 'TOOL_FAILED'
  | 'NOT_LEADER'
  // the etcd secrets area is sealed with a key this process does not have, or a different one
  | 'SECRETS_KEY_MISSING'
  | 'SECRETS_KEY_WRONG'

  // certificates (src/certs): challenge not published everywhere, the CA refused, a mirror did not take it,
  // a mirror's SSH host key is not the pinned one
  | 'CERT_DNS'
  | 'CERT_CA'
  | 'CERT_DEPLOY'
  | 'CERT_HOST_KEY';

export class FlotillaError extends Error {
  readonly code: ErrorCode;
  /** 2 = the user's input is wrong, 1 = something failed. */
  readonly exitCode: number;
  /** The message is redacted (redactText): a URL's userinfo or token in it never reaches a log, the audit or a client. */
  constructor(code: ErrorCode, message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(redactText(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** One problem in a config file: where it is and what was wrong. */
export interface ConfigIssue {
  /** Path inside the file, e.g. `flotilla:fleet.mirrors[1].provider`. */
  path: string;
  message: string;
}

/** A stack or config file is wrong. Carries every problem at once so the user fixes them in one pass. */
export class ConfigError extends FlotillaError {
  readonly file: string;
  readonly issues: ConfigIssue[];
  constructor(file: string, issues: ConfigIssue[], code: ErrorCode = 'CONFIG_INVALID') {
    super(code, `${file}: ${issues.length} problem(s)\n` + issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n'), {
      exitCode: 2,
    });
    this.file = file;
    this.issues = issues;
  }
}

/** The command line itself is wrong (unknown mirror, missing flag). */
export class UsageError extends FlotillaError {
  constructor(message: string) {
    super('USAGE', message, { exitCode: 2 });
  }
}

/** The planner refused a change because a safety rail holds (use --force to override where allowed). */
export class PlanRefusedError extends FlotillaError {
  constructor(message: string) {
    super('PLAN_REFUSED', message, { exitCode: 1 });
  }
}

/** A DNS provider failed. `retryable` is true for throttling and transient faults. Never carries a credential. */
export class DriverError extends FlotillaError {
  readonly provider: string;
  readonly zone: string;
  readonly retryable: boolean;
  /** Milliseconds the provider asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(opts: {
    /** DRIVER_CONFLICT: the provider holds something at the name that flotilla must not and cannot replace. */
    code: Extract<ErrorCode, 'DRIVER_AUTH' | 'DRIVER_NOT_FOUND' | 'DRIVER_RATE_LIMITED' | 'DRIVER_FAILED' | 'DRIVER_CONFLICT'>;
    provider: string;
    zone: string;
    message: string;
    retryable?: boolean;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(opts.code, `${opts.provider} (zone ${opts.zone}): ${opts.message}`, { cause: opts.cause });
    this.provider = opts.provider;
    this.zone = opts.zone;
    this.retryable = opts.retryable ?? opts.code === 'DRIVER_RATE_LIMITED';
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/**
 * The state store failed: someone else saved first (STATE_CONFLICT), what is stored cannot be read as a state
 * (STATE_CORRUPT), or the store cannot be reached or written (STATE_UNAVAILABLE: etcd down, disk full or read-only).
 */
export class StateError extends FlotillaError {
  constructor(code: Extract<ErrorCode, 'STATE_CONFLICT' | 'STATE_CORRUPT' | 'STATE_UNAVAILABLE' | 'NOT_LEADER'>, message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(code, message, opts);
  }
}

/** An external tool (pulumi, named, ...) is not installed. */
export class ToolMissingError extends FlotillaError {
  constructor(message: string) {
    super('TOOL_MISSING', message, { exitCode: 1 });
  }
}

/** An external tool ran and failed (`pulumi stack output` exiting non-zero); its own message is included. */
export class ToolFailedError extends FlotillaError {
  constructor(message: string) {
    super('TOOL_FAILED', message, { exitCode: 1 });
  }
}
