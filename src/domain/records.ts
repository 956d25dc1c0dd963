/**
 * DNS record sets as flotilla sees them: one RRset = (name, type) with a TTL and its values.
 * Names are absolute, lower-case, without the trailing dot (`www.example.com`).
 * Values are in presentation form without quoting for TXT (the text itself), so every driver compares the same way:
 *   A: `192.0.2.1`, AAAA: canonical lower-case `2001:db8::1`, CNAME/NS: a name without trailing dot,
 *   TXT: the text (drivers split/join 255-byte chunks), MX: `10 mail.example.com`,
 *   SOA: `ns1.example.com hostmaster.example.com serial refresh retry expire minimum`.
 */
export const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'NS', 'SOA', 'MX', 'CAA', 'SRV'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export interface RecordSet {
  name: string;
  type: RecordType;
  ttl: number;
  values: string[];
}

/** A change to one RRset. Drivers with per-record granularity expand it themselves. */
export type Change =
  | { action: 'create'; after: RecordSet }
  | { action: 'update'; before: RecordSet; after: RecordSet }
  | { action: 'delete'; before: RecordSet };

/** What a driver reports after applyChanges. */
export interface ApplyReport {
  provider: string;
  zone: string;
  applied: number;
  /** Write requests / messages sent (one per batch), retries included: what the provider's rate limit counts. */
  requests: number;
  /** Provider change id when there is one (Route 53). */
  changeId?: string;
}

export function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

export function rrsetKey(r: { name: string; type: string }): string {
  return `${normalizeName(r.name)}/${r.type}`;
}

/** Canonical form of one value, so `2001:DB8::1` and `2001:db8:0::1` compare equal. */
export function normalizeValue(type: RecordType, value: string): string {
  switch (type) {
    case 'A':
      return value.trim();
    case 'AAAA':
      return canonicalIpv6(value.trim());
    case 'CNAME':
    case 'NS':
      return normalizeName(value);
    case 'MX': {
      const [pref, host] = value.trim().split(/\s+/);
      return `${Number(pref)} ${normalizeName(host ?? '')}`;
    }
    default:
      return value;
  }
}

export function normalizeRecordSet(r: RecordSet): RecordSet {
  const values = [...new Set(r.values.map((v) => normalizeValue(r.type, v)))].sort();
  return { name: normalizeName(r.name), type: r.type, ttl: r.ttl, values };
}

export function sameRecordSet(a: RecordSet, b: RecordSet): boolean {
  const x = normalizeRecordSet(a);
  const y = normalizeRecordSet(b);
  return x.name === y.name && x.type === y.type && x.ttl === y.ttl && x.values.join('\n') === y.values.join('\n');
}

function canonicalIpv6(v: string): string {
  const lower = v.toLowerCase();
  const [head, tail] = lower.includes('::') ? lower.split('::') : [lower, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return lower;
  const parts = groups.map((g) => parseInt(g || '0', 16).toString(16));
  // compress the longest run of zeros (RFC 5952)
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

/** True when `name` is `zone` or below it. */
export function inZone(name: string, zone: string): boolean {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  return n === z || n.endsWith(`.${z}`);
}
