import type { DnsDriver } from '../drivers/dns-driver.ts';
import { wrapDriver } from '../drivers/driver-wrapper.ts';
import type { WriteBudget } from './write-budget.ts';

/**
 * A driver whose writes spend `budget` per request, not per apply: before an apply it takes the tokens the driver
 * declares for it (`writeRequests`: Hetzner one per RRset, Route 53 one per ChangeResourceRecordSets, Cloudflare one
 * per batch); requests the apply reports beyond that declaration are charged afterwards. Reads are not charged.
 */
export function withWriteBudget(driver: DnsDriver, budget: WriteBudget): DnsDriver {
  return wrapDriver(driver, {
    async applyChanges(zone, changes, signal) {
      const declared = driver.writeRequests(zone, changes);
      await budget.take(declared, signal);
      const report = await driver.applyChanges(zone, changes, signal);
      if (report.requests > declared) budget.spend(report.requests - declared);
      return report;
    },
  });
}
