import type { ZoneReport } from './reconcile.ts';
import type { ServerVerdict } from './verify.ts';

/** A pass's writes, and the verification of them that runs on after the worker is free again. */
export type Pass = { reports: ZoneReport[]; verify: Promise<ServerVerdict[]> };

/**
 * Act: one worker per provider (leader only). Runs passes one at a time; requests arriving during a pass are merged
 * into ONE next pass (coalescing), which applies the latest decision.
 */
export class ProviderWorker {
  private current: Promise<Pass> | undefined;
  private next: Promise<Pass> | undefined;
  constructor(private readonly pass: () => Promise<Pass>) {}

  request(): Promise<Pass> {
    if (!this.current) {
      this.current = this.pass().finally(() => { this.current = undefined; });
      return this.current;
    }
    if (!this.next) {
      this.next = this.current.catch(() => undefined).then(() => {
        this.next = undefined;
        return this.request();
      });
    }
    return this.next;
  }

  async idle(): Promise<void> {
    await this.next?.catch(() => undefined);
    await this.current?.catch(() => undefined);
  }
}
