/**
 * AWS SDK (Route 53) errors → typed DriverErrors. Facts (Route 53 API Reference, common errors):
 * `Throttling` "Rate exceeded" (HTTP 400) and `PriorRequestNotComplete` (400, "wait, in intervals of increasing
 * duration") are retried; `NoSuchHostedZone` is 404; `InvalidChangeBatch` arrives in its own XML root
 * (`<InvalidChangeBatch><Messages><Message>…`) without a `<Code>`, so the SDK may surface it under another name —
 * we read the messages wherever the SDK put them; credentials problems are 403 (`InvalidClientTokenId`,
 * `SignatureDoesNotMatch`, `AccessDenied`, …). The SDK error is never attached as `cause`.
 */
import { DriverError } from '../../domain/errors.ts';

const AUTH_NAMES = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'MissingAuthenticationToken',
  'IncompleteSignature',
  'ExpiredToken',
  'CredentialsProviderError',
]);
const THROTTLE_NAMES = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

interface SdkErrorLike {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  Messages?: { Message?: string | string[] };
  messages?: string[];
}

function batchMessages(e: SdkErrorLike): string[] {
  if (Array.isArray(e.messages) && e.messages.length) return e.messages;
  const m = e.Messages?.Message;
  if (Array.isArray(m)) return m;
  return typeof m === 'string' ? [m] : [];
}

export function toDriverError(err: unknown, ctx: { provider: string; zone: string; secrets: readonly string[]; what: string }): DriverError {
  if (err instanceof DriverError) return err;
  const base = { provider: ctx.provider, zone: ctx.zone };
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorLike;
  const msgs = batchMessages(e);
  // InvalidChangeBatch has no <Code>, so the SDK may call it "Unknown": name it by its messages.
  const name = (e.name === undefined || e.name === 'Unknown') && msgs.length ? 'InvalidChangeBatch' : (e.name ?? 'Error');
  const status = e.$metadata?.httpStatusCode;
  const text = msgs.length ? msgs.join('; ') : (e.message ?? String(err));
  const detail = scrub(`${ctx.what}: ${name}${status ? ` (HTTP ${status})` : ''}: ${text}`, ctx.secrets);
  if (AUTH_NAMES.has(name) || status === 403 || status === 401) {
    return new DriverError({ ...base, code: 'DRIVER_AUTH', message: `credentials rejected — ${detail}` });
  }
  if (THROTTLE_NAMES.has(name)) return new DriverError({ ...base, code: 'DRIVER_RATE_LIMITED', message: `throttled — ${detail}` });
  if (name === 'PriorRequestNotComplete') return new DriverError({ ...base, code: 'DRIVER_FAILED', message: detail, retryable: true });
  if (name === 'NoSuchHostedZone') return new DriverError({ ...base, code: 'DRIVER_NOT_FOUND', message: `hosted zone not found — ${detail}` });
  if (name === 'InvalidChangeBatch' || msgs.length > 0) {
    return new DriverError({ ...base, code: 'DRIVER_FAILED', message: `change batch refused (nothing in it was applied) — ${detail}` });
  }
  const transient = (status !== undefined && status >= 500) || name === 'TimeoutError' || /ECONNREFUSED|ECONNRESET|socket hang up/i.test(text);
  return new DriverError({ ...base, code: 'DRIVER_FAILED', message: detail, retryable: transient });
}

/**
 * An alias (or routing-policy) record set already sits at a name and type flotilla is to write: Route 53 would refuse
 * every batch that creates the plain set ("already exists"), forever. Reported once per apply, before any request.
 */
export class Route53AliasConflictError extends DriverError {
  readonly names: string[];
  constructor(opts: { provider: string; zone: string; names: string[] }) {
    super({
      provider: opts.provider,
      zone: opts.zone,
      code: 'DRIVER_CONFLICT',
      message:
        `an alias or routing-policy record set already holds ${opts.names.join(', ')}: flotilla writes plain record sets and never replaces ` +
        `one it did not create. Delete that alias in Route 53 (or serve the site at another name); nothing was sent`,
    });
    this.names = opts.names;
  }
}
