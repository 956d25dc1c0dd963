/**
 * Pure mapping between flotilla RRsets and Route 53 ResourceRecordSets, and change-batch packing.
 * Facts (Amazon Route 53 API Reference / Developer Guide):
 * - names are fully qualified; Route 53 answers with a trailing dot and writes characters other than a-z, 0-9, '-'
 *   as \ooo octal escapes (a wildcard comes back as `\052.example.com.`); requests may use `*` as the leftmost label;
 * - TXT values are one or more strings in double quotes, `\"` and `\\` escaped, other non-printables as \ooo octal;
 * - one ChangeResourceRecordSets request: at most 1,000 ResourceRecord elements (UPSERT counts twice) and 32,000
 *   characters of values; older documents also cap a request at 100 Change elements — we keep all three;
 * - a change batch is transactional; DELETE must name the exact current values and TTL.
 */
import { quoteTxt as quoteZoneTxt, toZoneFileValue, unquoteTxt as unquoteZoneTxt } from '../../dns/zone-file-values.ts';
import type { Change as R53Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { normalizeName, normalizeValue, RECORD_TYPES, type Change, type RecordSet, type RecordType } from '../../domain/records.ts';

export const ROUTE53_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS', 'CAA', 'SRV'] as const satisfies readonly RecordType[];

export const ROUTE53_LIMITS = { changes: 100, records: 1000, chars: 32_000 } as const;

/** `www.example.com` → `www.example.com.` (escapes what Route 53 requires escaped; `*` may stay). */
export function toRoute53Name(name: string): string {
  const n = normalizeName(name);
  const escaped = [...n].map((c) => (/[a-z0-9\-_.*]/.test(c) ? c : `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)).join('');
  return `${escaped}.`;
}

/** `\052.example.com.` → `*.example.com` (decodes \ooo octal escapes). */
export function fromRoute53Name(name: string): string {
  return normalizeName(name.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/** Text → Route 53 TXT value: quoted strings of at most 255 bytes, \ooo octal for other bytes. */
export const quoteTxt = (text: string): string => quoteZoneTxt(text, 'octal');

/** Route 53 TXT value → text. */
export const unquoteTxt = (value: string): string => unquoteZoneTxt(value, 'octal');

function isRecordType(t: string | undefined): t is RecordType {
  return t !== undefined && (RECORD_TYPES as readonly string[]).includes(t);
}

/** flotilla value → Route 53 value (targets absolute with a trailing dot). */
export const toRoute53Value = (type: RecordType, value: string): string => toZoneFileValue(type, value, 'octal');

/** Route 53 value → flotilla presentation value (names without the trailing dot). */
export function fromRoute53Value(type: RecordType, value: string): string {
  switch (type) {
    case 'TXT':
      return unquoteTxt(value);
    case 'CNAME':
    case 'NS':
    case 'MX':
      return normalizeValue(type, value);
    case 'SRV': {
      const parts = value.trim().split(/\s+/);
      const target = parts.pop() ?? '';
      return [...parts, target === '.' ? '.' : normalizeName(target)].join(' ');
    }
    case 'SOA': {
      const [mname, rname, ...rest] = value.trim().split(/\s+/);
      return [normalizeName(mname ?? ''), normalizeName(rname ?? ''), ...rest].join(' ');
    }
    default:
      return value;
  }
}

/**
 * A listed ResourceRecordSet as a flotilla RRset; undefined for unknown types. An alias or a routing-policy set
 * (SetIdentifier) is listed as a foreign RRset at its name and type, valued `alias <target>` / `routing-policy <id>`:
 * it carries no marker of ours, so the planner leaves that name alone and reports the conflict once, and every other
 * name is still written (a plain set cannot be created beside it; Route 53 would refuse every batch that tried).
 */
export function fromResourceRecordSet(r: ResourceRecordSet): RecordSet | undefined {
  if (!isRecordType(r.Type)) return undefined;
  if (r.AliasTarget || r.SetIdentifier) {
    const what = r.AliasTarget ? `alias ${normalizeName(r.AliasTarget.DNSName ?? '')}` : `routing-policy ${r.SetIdentifier}`;
    return { name: fromRoute53Name(r.Name ?? ''), type: r.Type, ttl: r.TTL ?? 0, values: [what] };
  }
  if (!r.ResourceRecords) return undefined;
  const type = r.Type;
  return {
    name: fromRoute53Name(r.Name ?? ''),
    type,
    ttl: r.TTL ?? 0,
    values: r.ResourceRecords.map((rr) => fromRoute53Value(type, rr.Value ?? '')),
  };
}

export function toResourceRecordSet(r: RecordSet): ResourceRecordSet {
  return {
    Name: toRoute53Name(r.name),
    Type: r.type,
    TTL: r.ttl,
    ResourceRecords: [...new Set(r.values)].map((v) => ({ Value: toRoute53Value(r.type, v) })),
  };
}

/**
 * The Route 53 changes for one flotilla change. `current` is the RRset exactly as Route 53 holds it now (DELETE must
 * repeat it verbatim), or undefined when there is none. Update = DELETE current + CREATE target in the same batch:
 * transactional, and it fails (InvalidChangeBatch) rather than overwrite a set that changed under us.
 */
export function changesFor(change: Change, current: ResourceRecordSet | undefined): R53Change[] {
  const del: R53Change[] = current ? [{ Action: 'DELETE', ResourceRecordSet: current }] : [];
  switch (change.action) {
    case 'create':
      return [{ Action: 'CREATE', ResourceRecordSet: toResourceRecordSet(change.after) }];
    case 'update':
      return [...del, { Action: 'CREATE', ResourceRecordSet: toResourceRecordSet(change.after) }];
    case 'delete':
      return del;
  }
}

export interface BatchWeight {
  changes: number;
  records: number;
  chars: number;
}

export function weigh(changes: readonly R53Change[]): BatchWeight {
  let records = 0;
  let chars = 0;
  for (const c of changes) {
    const rrs = c.ResourceRecordSet?.ResourceRecords ?? [];
    records += rrs.length * (c.Action === 'UPSERT' ? 2 : 1);
    for (const rr of rrs) chars += (rr.Value ?? '').length * (c.Action === 'UPSERT' ? 2 : 1);
  }
  return { changes: changes.length, records, chars };
}

function fits(w: BatchWeight, limits: BatchWeight): boolean {
  return w.changes <= limits.changes && w.records <= limits.records && w.chars <= limits.chars;
}

/**
 * Packs groups of changes (one group per flotilla change, e.g. an update's DELETE+CREATE) into change batches within
 * the limits, never splitting a group, keeping order. A group too large on its own is a batch of its own (and
 * Route 53 will refuse it: one RRset cannot be changed in pieces).
 */
export function packChangeBatches(groups: readonly R53Change[][], limits: BatchWeight = ROUTE53_LIMITS): R53Change[][] {
  const out: R53Change[][] = [];
  let cur: R53Change[] = [];
  for (const g of groups) {
    if (g.length === 0) continue;
    if (cur.length > 0 && !fits(weigh([...cur, ...g]), limits)) {
      out.push(cur);
      cur = [];
    }
    cur.push(...g);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
