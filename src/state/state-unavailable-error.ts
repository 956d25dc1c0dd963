import { StateError } from '../domain/errors.ts';

/**
 * No endpoint of a remote state store answered (connection refused, timed out, or the server said it is unavailable).
 * Transient by nature, hence `retryable`. The code is STATE_CORRUPT ("the state cannot be read") because the domain
 * has no dedicated "unavailable" code; match on the class (or `retryable`) to tell it from a damaged state value.
 */
export class StateUnavailableError extends StateError {
  /** What was tried, each with the reason it failed, in the order tried. */
  readonly attempts: { endpoint: string; reason: string }[];
  readonly retryable = true;
  constructor(what: string, attempts: { endpoint: string; reason: string }[]) {
    super('STATE_CORRUPT', `${what} is unreachable: ${attempts.map((a) => `${a.endpoint} (${a.reason})`).join(', ')}`);
    this.attempts = attempts;
  }
}
