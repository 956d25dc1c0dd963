import { abortableSleep } from '../drivers/retry.ts';

/**
 * A token bucket per provider account: `requests` writes per `perMs`. The controller takes a token before each
 * write, so flapping or a burst of decisions can never spend a provider's rate limit into a lockout.
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

  /** Waits for and takes `n` tokens. */
  async take(n = 1, signal?: AbortSignal): Promise<void> {
    for (let w = this.waitMs(n); w > 0; w = this.waitMs(n)) {
      await abortableSleep(w, signal);
    }
    if (Number.isFinite(this.requests)) this.tokens -= n;
  }

  private refill(): void {
    const t = this.now();
    if (Number.isFinite(this.requests)) this.tokens = Math.min(this.requests, this.tokens + ((t - this.last) * this.requests) / this.perMs);
    this.last = t;
  }
}
