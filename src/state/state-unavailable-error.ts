import { StateError } from '../domain/errors.ts';
import { redactText, redactUrl } from '../domain/redact-url.ts';

/**
 * No endpoint of a remote state store answered (connection refused, timed out, or the server said it is unavailable).
 * Transient by nature, hence `retryable`; code STATE_UNAVAILABLE (a damaged state value is STATE_CORRUPT).
 */
export class StateUnavailableError extends StateError {
  /** What was tried, each with the reason it failed, in the order tried. */
  readonly attempts: { endpoint: string; reason: string }[];
  readonly retryable = true;
  constructor(what: string, attempts: { endpoint: string; reason: string }[]) {
    super('STATE_UNAVAILABLE', `${what} is unreachable: ${attempts.map((a) => `${a.endpoint} (${a.reason})`).join(', ')}`);
    this.attempts = attempts.map((a) => ({ endpoint: redactUrl(a.endpoint), reason: redactText(a.reason) }));
  }
}
