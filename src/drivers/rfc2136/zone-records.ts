/** Turns the messages of a zone transfer (AXFR) into flotilla RRsets. Pure. */
import packet from 'dns-packet';
import { RECORD_TYPES, normalizeName, type RecordSet, type RecordType } from '../../domain/records.ts';
import { fromPacketData } from '../../dns/rdata.ts';

const KNOWN = new Set<string>(RECORD_TYPES);

interface WireRecord {
  name: string;
  type: string;
  ttl: number;
  klass: string;
  data: unknown;
}

function answersOf(messages: readonly Buffer[]): WireRecord[] {
  const out: WireRecord[] = [];
  for (const m of messages) {
    for (const a of packet.decode(m).answers ?? []) {
      const r = a as { name: string; type: string; ttl?: number; class?: string; data?: unknown };
      out.push({ name: r.name, type: r.type, ttl: r.ttl ?? 0, klass: r.class ?? 'IN', data: r.data });
    }
  }
  return out;
}

/**
 * Every RRset of the zone, SOA and NS included, in transfer order. The transfer's closing SOA is dropped,
 * and so are types flotilla does not manage (DNSSEC records, PTR, ...). Throws a plain Error when the
 * messages are not a complete transfer of `zone`.
 */
export function recordSetsFromTransfer(messages: readonly Buffer[], zone: string): RecordSet[] {
  const z = normalizeName(zone);
  const rrs = answersOf(messages);
  const open = rrs[0];
  const close = rrs.at(-1);
  if (!open || open.type !== 'SOA' || normalizeName(open.name) !== z) throw new Error('the transfer does not start with the zone SOA');
  if (rrs.length < 2 || close?.type !== 'SOA') throw new Error('the transfer does not end with the zone SOA');
  const sets = new Map<string, RecordSet>();
  for (const rr of rrs.slice(0, -1)) {
    if (!KNOWN.has(rr.type) || rr.klass !== 'IN') continue;
    const type = rr.type as RecordType;
    const name = normalizeName(rr.name);
    const key = `${name}/${type}`;
    const value = fromPacketData(type, rr.data);
    const set = sets.get(key);
    if (set) {
      set.values.push(value);
      set.ttl = Math.min(set.ttl, rr.ttl);
    } else {
      sets.set(key, { name, type, ttl: rr.ttl, values: [value] });
    }
  }
  return [...sets.values()].map((s) => ({ ...s, values: [...new Set(s.values)].sort() }));
}
