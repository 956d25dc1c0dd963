import type { DnsDriver } from './dns-driver.ts';
import { wrapDriver } from './driver-wrapper.ts';
import { withRetry, type RetryOptions } from './retry.ts';

/**
 * A driver whose lists and applies are retried (retryable DriverErrors only) with backoff. A provider's retry-after
 * is waited out exactly, and one longer than `maxRetryAfterMs` is not waited for here at all: the error is returned
 * and the next pass comes after the lockout, so no request is ever sent into it. Put it outside the write budget
 * (withRetries(withWriteBudget(d))) so every attempt spends tokens for the requests it sends.
 */
export function withRetries(driver: DnsDriver, opts: Omit<RetryOptions, 'signal'> = {}): DnsDriver {
  return wrapDriver(driver, {
    listRecords: (zone, signal) => withRetry(() => driver.listRecords(zone, signal), { ...opts, signal }),
    applyChanges: (zone, changes, signal) => withRetry(() => driver.applyChanges(zone, changes, signal), { ...opts, signal }),
  });
}
