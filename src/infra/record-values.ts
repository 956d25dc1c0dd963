import { delegatedSubset, normalizeNameservers } from '../domain/delegated-nameservers.ts';
import { normalizeName, type RecordSet, type RecordType } from '../domain/records.ts';
import { txtChunks } from '../dns/txt-chunks.ts';
import { quoteTxt } from '../dns/zone-file-values.ts';
import { shortHash } from './web-server-setup.ts';

/**
 * Pure helpers that turn flotilla's RecordSets into what each DNS provider's Pulumi resource expects:
 * placeholders, resource names, TXT quoting and relative names. No Pulumi here (TTL floors: planner/shape-for-provider.ts).
 */

/** A `${mirror:NAME:ipv4}` value from desiredRecords({ placeholders: true }). */
export interface PlaceholderRef {
  mirror: string;
  family: 'ipv4' | 'ipv6';
}

const PLACEHOLDER = /^\$\{mirror:([^:}]+):(ipv4|ipv6)\}$/;

export function parsePlaceholder(value: string): PlaceholderRef | undefined {
  const m = PLACEHOLDER.exec(value);
  return m ? { mirror: m[1], family: m[2] as 'ipv4' | 'ipv6' } : undefined;
}

/** Characters Pulumi resource names keep (URNs use `::` as a separator, so IPv6 colons must go). */
export function resourceName(...parts: string[]): string {
  return parts
    .join('-')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * Stable identity of one value inside an RRset, for per-record providers (Cloudflare): the mirror name for a
 * placeholder, the address for A/AAAA, a short hash otherwise. A mirror leaving the answer removes exactly its record.
 */
export function valueKey(type: RecordType, value: string): string {
  const ref = parsePlaceholder(value);
  if (ref) return `${ref.mirror}-${ref.family}`;
  if (type === 'A' || type === 'AAAA') return value;
  return shortHash(value, 10);
}

/** Presentation form Cloudflare and Hetzner want for TXT content: quoted character-strings separated by spaces. */
export function quotedTxt(text: string): string {
  return quoteTxt(text, 'none');
}

const escapeTxt = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * Route 53 TXT value as the AWS provider wants it: the provider adds the outer quotes itself; strings longer than
 * 255 bytes are split with `""` between chunks.
 */
export function route53Txt(text: string): string {
  return txtChunks(text).map(escapeTxt).join('""');
}

/** Name relative to the zone, `@` for the apex (Hetzner's RRset names). */
export function relativeName(name: string, zone: string): string {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  if (n === z) return '@';
  if (!n.endsWith(`.${z}`)) throw new Error(`${n} is not inside zone ${z}`);
  return n.slice(0, -(z.length + 1));
}

/**
 * The provider's delegated nameservers (the shared rule: src/domain/delegated-nameservers.ts), refusing a provider
 * that assigned fewer than `count`: the registrar and the apex NS sets would list fewer than the stack says.
 */
export function requireDelegatedSubset(names: readonly string[], count: number, what: string): string[] {
  const all = normalizeNameservers(names);
  if (all.length < count) throw new Error(`${what} assigned ${all.length} nameserver(s), fewer than delegatedNameservers (${count})`);
  return delegatedSubset(all, count);
}

/** Every placeholder the records of a zone refer to (so the program can check each has a mirror behind it). */
export function placeholdersIn(records: readonly RecordSet[]): PlaceholderRef[] {
  const seen = new Map<string, PlaceholderRef>();
  for (const r of records) for (const v of r.values) {
    const p = parsePlaceholder(v);
    if (p) seen.set(`${p.mirror}:${p.family}`, p);
  }
  return [...seen.values()];
}
