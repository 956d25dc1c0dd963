import type { DnsDriver } from '../drivers/dns-driver.ts';
import type { WriteBudget } from './write-budget.ts';

/**
 * A driver whose writes spend `budget` per request, not per apply: before an apply it takes the tokens the driver
 * declares for it (`writeRequests`: Hetzner one per RRset, Route 53 one per ChangeResourceRecordSets, Cloudflare one
 * per batch); requests the apply reports beyond that declaration are charged afterwards. Reads are not charged.
 */
export function withWriteBudget(driver: DnsDriver, budget: WriteBudget): DnsDriver {
  return {
    get kind() { return driver.kind; },
    get name() { return driver.name; },
    get capabilities() { return driver.capabilities; },
    listRecords: (zone, signal) => driver.listRecords(zone, signal),
    writeRequests: (zone, changes) => driver.writeRequests(zone, changes),
    nameservers: (zone) => driver.nameservers(zone),
    close: driver.close ? () => driver.close!() : undefined,
    async applyChanges(zone, changes, signal) {
      const declared = driver.writeRequests(zone, changes);
      await budget.take(declared, signal);
      const report = await driver.applyChanges(zone, changes, signal);
      if (report.requests > declared) budget.spend(report.requests - declared);
      return report;
    },
  };
}
