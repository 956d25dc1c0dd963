/**
 * An in-memory DnsDriver for the benchmarks that measure flotilla itself (probe loop, planner and reconcile cost),
 * not a DNS server: zones are Maps of RRsets, writes are applied in place, nothing is verified (no nameservers).
 */
import { DriverError } from '../../src/domain/errors.ts';
import { normalizeName, normalizeRecordSet, rrsetKey, type ApplyReport, type Change, type RecordSet } from '../../src/domain/records.ts';
import { chunk, type DnsDriver, type DriverCapabilities } from '../../src/drivers/dns-driver.ts';

const CAPABILITIES: DriverCapabilities = {
  granularity: 'rrset',
  atomicBatch: true,
  minTtl: 1,
  types: ['A', 'AAAA', 'CNAME', 'TXT', 'NS', 'SOA', 'MX', 'CAA', 'SRV'],
  maxBatch: 1000,
  writeBudget: { requests: Infinity, perMs: 1000 },
};

export class MemoryDriver implements DnsDriver {
  readonly kind = 'memory';
  readonly capabilities = CAPABILITIES;
  readonly zones = new Map<string, Map<string, RecordSet>>();
  requests = 0;

  constructor(readonly name: string, zones: readonly string[] = []) {
    for (const z of zones) this.zones.set(normalizeName(z), new Map());
  }

  async listRecords(zone: string): Promise<RecordSet[]> {
    const z = this.zones.get(normalizeName(zone));
    if (!z) throw new DriverError({ code: 'DRIVER_NOT_FOUND', provider: this.name, zone, message: 'no such zone' });
    return [...z.values()].map((r) => ({ ...r, values: [...r.values] }));
  }

  async applyChanges(zone: string, changes: readonly Change[]): Promise<ApplyReport> {
    const z = this.zones.get(normalizeName(zone));
    if (!z) throw new DriverError({ code: 'DRIVER_NOT_FOUND', provider: this.name, zone, message: 'no such zone' });
    let requests = 0;
    for (const batch of chunk(changes, CAPABILITIES.maxBatch)) {
      for (const c of batch) {
        if (c.action === 'delete') z.delete(rrsetKey(c.before));
        else z.set(rrsetKey(c.after), normalizeRecordSet(c.after));
      }
      requests++;
    }
    this.requests += requests;
    return { provider: this.name, zone, applied: changes.length, requests };
  }

  writeRequests(_zone: string, changes: readonly Change[]): number {
    return chunk(changes, CAPABILITIES.maxBatch).length;
  }

  async nameservers(): Promise<string[]> {
    return [];
  }
}
