import { DriverError } from '../domain/errors.ts';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A retry-after longer than this is a lockout: give up at once rather than wait (default: wait any time). */
  maxRetryAfterMs?: number;
  signal?: AbortSignal;
  /** For tests: replaces setTimeout-based sleeping. */
  sleep?: (ms: number) => Promise<void>;
}

/** Sleeps `ms`, or rejects when `signal` aborts; the abort listener is removed when the sleep ends either way. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => { clearTimeout(t); reject(signal!.reason); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn`, retrying DriverErrors marked retryable with exponential backoff and jitter.
 * A provider's retry-after is honoured exactly (never retry into a lockout); other errors are thrown at once.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!(err instanceof DriverError) || !err.retryable || attempt >= attempts) throw err;
      if (err.retryAfterMs !== undefined && err.retryAfterMs > (opts.maxRetryAfterMs ?? Infinity)) throw err;
      const backoff = Math.min(max, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      const wait = err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, 0) : backoff;
      await (opts.sleep ? opts.sleep(wait) : abortableSleep(wait, opts.signal));
    }
  }
}
