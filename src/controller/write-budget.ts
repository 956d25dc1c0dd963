import { abortableSleep } from '../drivers/retry.ts';

/**
 * A token bucket per provider account: `requests` write requests per `perMs`. The controller takes a token before
 * each write request (through src/controller/budgeted-driver.ts), so flapping or a burst of decisions can never spend
 * a provider's rate limit into a lockout.
 */
export class WriteBudget {
  private tokens: number;
  private last: number;
  constructor(private readonly requests: number, private readonly perMs: number, private readonly now: () => number = Date.now) {
    this.tokens = requests;
    this.last = now();
  }

  /** Milliseconds until `n` tokens are available (0 = now). */
  waitMs(n = 1): number {
    this.refill();
    if (!Number.isFinite(this.requests) || this.tokens >= n) return 0;
    return Math.ceil(((n - this.tokens) * this.perMs) / this.requests);
  }

  /**
   * Waits for and takes `n` tokens. More than the bucket holds waits for a full bucket and leaves the rest as
   * debt, so the writes after it wait until the account has earned it back.
   */
  async take(n = 1, signal?: AbortSignal): Promise<void> {
    const need = Math.min(n, this.requests);
    for (let w = this.waitMs(need); w > 0; w = this.waitMs(need)) {
      await abortableSleep(w, signal);
    }
    this.spend(n);
  }

  /** Spends `n` tokens now, without waiting (requests already sent); the balance may go below zero. */
  spend(n: number): void {
    this.refill();
    if (Number.isFinite(this.requests)) this.tokens -= n;
  }

  private refill(): void {
    const t = this.now();
    if (Number.isFinite(this.requests)) this.tokens = Math.min(this.requests, this.tokens + ((t - this.last) * this.requests) / this.perMs);
    this.last = t;
  }
}
