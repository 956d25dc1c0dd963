import type { RecordSet, RecordType } from '../../domain/records.ts';
import type { ZoneData } from './zone-data.ts';

/**
 * In-memory lookup structure of one zone, built once per zone version so a query costs a few map lookups.
 * Immutable: a change builds a new index and swaps it in, so a query never sees half a change set.
 */
export class ZoneIndex {
  readonly zone: string;
  readonly serial: number;
  readonly data: ZoneData;
  readonly soa: RecordSet;
  private readonly nodes = new Map<string, Map<RecordType, RecordSet>>();
  /** Names that exist only because something lives below them (empty non-terminals). */
  private readonly emptyNonTerminals = new Set<string>();

  constructor(data: ZoneData) {
    this.zone = data.zone;
    this.serial = data.serial;
    this.data = data;
    for (const r of data.rrsets) {
      let node = this.nodes.get(r.name);
      if (!node) this.nodes.set(r.name, (node = new Map()));
      node.set(r.type, r);
    }
    for (const name of this.nodes.keys()) {
      for (let n = parentOf(name); n !== undefined && n.length > this.zone.length; n = parentOf(n)) {
        if (!this.nodes.has(n)) this.emptyNonTerminals.add(n);
      }
    }
    const soa = this.nodes.get(this.zone)?.get('SOA');
    if (!soa) throw new Error(`zone ${this.zone} has no SOA`);
    this.soa = soa;
  }

  /** The RRsets at `name` (lower-case, no trailing dot), or undefined when none. */
  node(name: string): ReadonlyMap<RecordType, RecordSet> | undefined {
    return this.nodes.get(name);
  }

  /** True when the name exists in the zone: it owns data or something below it does. */
  exists(name: string): boolean {
    return this.nodes.has(name) || this.emptyNonTerminals.has(name);
  }

  /** The closest delegation (NS RRset below the apex) at or above `name`, if any. */
  delegation(name: string): RecordSet | undefined {
    for (let n: string | undefined = name; n !== undefined && n.length > this.zone.length; n = parentOf(n)) {
      const ns = this.nodes.get(n)?.get('NS');
      if (ns) return ns;
    }
    return undefined;
  }

  /** TTL of negative answers (RFC 2308): the lower of the SOA's TTL and its minimum field. */
  negativeTtl(): number {
    const minimum = Number(this.soa.values[0].split(/\s+/)[6]);
    return Math.min(this.soa.ttl, Number.isFinite(minimum) ? minimum : this.soa.ttl);
  }
}

function parentOf(name: string): string | undefined {
  const dot = name.indexOf('.');
  return dot < 0 ? undefined : name.slice(dot + 1);
}
