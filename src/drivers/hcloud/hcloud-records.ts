/**
 * Pure mapping between flotilla RRsets and Hetzner Cloud DNS RRsets.
 * Facts (Hetzner Cloud API reference "Zone RRSets", mirrored by the official hcloud-go client):
 * - an RRset is `{ id: "<name>/<type>", name, type, ttl (null = the zone's TTL), records: [{ value, comment }] }`;
 * - `name` is relative to the zone, lower case, never ends with a dot or the zone name; the apex is `@`;
 * - record values are zone-file presentation: TXT "must consist of one or many quoted strings of 255 characters";
 *   domain-name targets are absolute with a trailing dot (a name without it is relative to the zone).
 */
import { quoteTxt as quoteZoneTxt, toZoneFileValue, unquoteTxt as unquoteZoneTxt } from '../../dns/zone-file-values.ts';
import { normalizeName, RECORD_TYPES, type RecordSet, type RecordType } from '../../domain/records.ts';

export const HCLOUD_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS', 'CAA', 'SRV'] as const satisfies readonly RecordType[];

export interface HcloudRRSet {
  id?: string;
  name: string;
  type: string;
  ttl: number | null;
  records: { value: string; comment?: string }[];
}

export function toRelativeName(name: string, zone: string): string {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  if (n === z) return '@';
  if (!n.endsWith(`.${z}`)) throw new Error(`${n} is not inside zone ${z}`);
  return n.slice(0, -(z.length + 1));
}

export function fromRelativeName(rel: string, zone: string): string {
  const z = normalizeName(zone);
  return rel === '@' || rel === '' ? z : normalizeName(`${rel}.${z}`);
}

/** Text → quoted character strings of at most 255 bytes. */
export const quoteTxt = (text: string): string => quoteZoneTxt(text, 'none');

/** Quoted character strings → text; unquoted values are returned as they are. */
export const unquoteTxt = (value: string): string => unquoteZoneTxt(value, 'decimal');

/** A target as the zone file means it: absolute with a dot, else relative to the zone. */
function absolute(target: string, zone: string): string {
  if (target === '@') return normalizeName(zone);
  return target.endsWith('.') ? normalizeName(target) : fromRelativeName(target, zone);
}

export const toHcloudValue = (type: RecordType, value: string): string => toZoneFileValue(type, value, 'none');

export function fromHcloudValue(type: RecordType, value: string, zone: string): string {
  switch (type) {
    case 'TXT':
      return unquoteTxt(value);
    case 'CNAME':
    case 'NS':
      return absolute(value.trim(), zone);
    case 'MX': {
      const [pref, host] = value.trim().split(/\s+/);
      return `${Number(pref)} ${absolute(host ?? '', zone)}`;
    }
    case 'SRV': {
      const parts = value.trim().split(/\s+/);
      const target = parts.pop() ?? '';
      return [...parts, target === '.' ? '.' : absolute(target, zone)].join(' ');
    }
    case 'SOA': {
      const [mname, rname, ...rest] = value.trim().split(/\s+/);
      return [absolute(mname ?? '', zone), absolute(rname ?? '', zone), ...rest].join(' ');
    }
    default:
      return value;
  }
}

function isRecordType(t: string): t is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(t);
}

/** An API RRset as a flotilla RRset (undefined for types flotilla does not model). */
export function fromHcloudRRSet(r: HcloudRRSet, zone: string, zoneTtl: number): RecordSet | undefined {
  if (!isRecordType(r.type)) return undefined;
  const type = r.type;
  return {
    name: fromRelativeName(r.name, zone),
    type,
    ttl: r.ttl ?? zoneTtl,
    values: r.records.map((rec) => fromHcloudValue(type, rec.value, zone)),
  };
}

export function toHcloudRecords(r: RecordSet): { value: string }[] {
  return [...new Set(r.values)].map((v) => ({ value: toHcloudValue(r.type, v) }));
}
