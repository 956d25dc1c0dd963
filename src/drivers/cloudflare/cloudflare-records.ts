/**
 * Pure mapping between flotilla RRsets and Cloudflare DNS records (record granularity: one value = one record).
 * Facts (Cloudflare API schema, dns-records, as shipped in the official `cloudflare` SDK v7 types):
 * - names are complete names in Punycode without the trailing dot; MX keeps its preference in `priority`;
 * - TXT `content` "must consist of quoted character strings (RFC 1035), each up to 255 bytes" — older records
 *   (and the dashboard) may hold unquoted text, so reading accepts both forms;
 * - `ttl: 1` means "automatic" (300 s); otherwise 60..86400 (30 on Enterprise).
 */
import { quoteTxt as quoteZoneTxt, unquoteTxt as unquoteZoneTxt } from '../../dns/zone-file-values.ts';
import { normalizeName, normalizeValue, RECORD_TYPES, type Change, type RecordSet, type RecordType } from '../../domain/records.ts';

/** Record types this driver writes. */
export const CLOUDFLARE_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS'] as const satisfies readonly RecordType[];

/** Seconds Cloudflare means by `ttl: 1` ("automatic"). */
export const AUTO_TTL = 300;

/** The fields of a Cloudflare record the driver reads. */
export interface CfRecord {
  id: string;
  name: string;
  type: string;
  content?: string;
  ttl?: number;
  priority?: number;
}

/** A record body for posts/patches. Always DNS-only: proxied records would answer with Cloudflare's addresses. */
export interface CfBody {
  name: string;
  type: RecordType;
  ttl: number;
  content: string;
  proxied: false;
  priority?: number;
}

/** One `POST /zones/{id}/dns_records/batch` body (puts are not needed: patches carry whole bodies). */
export interface CfBatch {
  deletes: { id: string }[];
  patches: (CfBody & { id: string })[];
  posts: CfBody[];
}

export function emptyBatch(): CfBatch {
  return { deletes: [], patches: [], posts: [] };
}

/** Records one batch operates on (what the per-plan limit counts). */
export function batchSize(b: CfBatch): number {
  return b.deletes.length + b.patches.length + b.posts.length;
}

/** Text → quoted character strings of at most 255 bytes (Cloudflare keeps UTF-8 raw). */
export const quoteTxt = (text: string): string => quoteZoneTxt(text, 'none');

/** Quoted character strings → text; unquoted content is returned as it is. */
export const unquoteTxt = (content: string): string => unquoteZoneTxt(content, 'decimal');

function isRecordType(t: string): t is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(t);
}

function effectiveTtl(ttl: number | undefined): number {
  return ttl === undefined || ttl === 1 ? AUTO_TTL : ttl;
}

/** Presentation value of one record, or undefined for types flotilla does not model. */
export function recordValue(r: CfRecord): string | undefined {
  if (!isRecordType(r.type)) return undefined;
  const content = r.content ?? '';
  switch (r.type) {
    case 'TXT':
      return unquoteTxt(content);
    case 'MX':
    case 'SRV':
      return `${r.priority ?? 0} ${content}`;
    default:
      return content;
  }
}

/** The body that creates (or overwrites) one record holding `value`. */
export function recordBody(name: string, type: RecordType, ttl: number, value: string): CfBody {
  const body: CfBody = { name: normalizeName(name), type, ttl, content: value, proxied: false };
  if (type === 'TXT') body.content = quoteTxt(value);
  if (type === 'MX') {
    const [pref, host] = value.trim().split(/\s+/);
    body.priority = Number(pref);
    body.content = normalizeName(host ?? '');
  }
  if (type === 'CNAME' || type === 'NS') body.content = normalizeName(value);
  return body;
}

/** Groups records into RRsets (TTL of the set = the lowest record TTL). Unmodelled types are left out. */
export function groupRecordSets(records: readonly CfRecord[]): RecordSet[] {
  const sets = new Map<string, RecordSet>();
  for (const r of records) {
    const value = recordValue(r);
    if (value === undefined) continue;
    const name = normalizeName(r.name);
    const key = `${name}/${r.type}`;
    const ttl = effectiveTtl(r.ttl);
    const set = sets.get(key);
    if (set) {
      set.values.push(value);
      set.ttl = Math.min(set.ttl, ttl);
    } else {
      sets.set(key, { name, type: r.type as RecordType, ttl, values: [value] });
    }
  }
  return [...sets.values()];
}

/**
 * The record operations that turn `current` (the records now at the change's name/type) into the change's target.
 * RRset semantics: after an update or delete the name/type holds exactly the target values. Records that already
 * hold a wanted value are kept (patched only for a TTL change); surplus records are patched into missing values
 * before anything is deleted or posted, so ids survive and the batch stays small.
 */
export function batchForChange(change: Change, current: readonly CfRecord[]): CfBatch {
  const target = change.action === 'delete' ? undefined : change.after;
  const ref = change.action === 'create' ? change.after : change.before;
  const type = ref.type;
  const name = normalizeName(ref.name);
  const out = emptyBatch();
  const want = target ? [...new Set(target.values.map((v) => normalizeValue(type, v)))] : [];
  const missing = new Set(want);
  const spare: CfRecord[] = [];
  for (const r of current) {
    const raw = recordValue(r);
    const v = raw === undefined ? undefined : normalizeValue(type, raw);
    if (target && v !== undefined && missing.has(v)) {
      missing.delete(v);
      if (effectiveTtl(r.ttl) !== target.ttl) out.patches.push({ id: r.id, ...recordBody(name, type, target.ttl, v) });
    } else {
      spare.push(r);
    }
  }
  const toWrite = [...missing];
  for (const r of spare) {
    const v = toWrite.shift();
    if (target && v !== undefined) out.patches.push({ id: r.id, ...recordBody(name, type, target.ttl, v) });
    else out.deletes.push({ id: r.id });
  }
  if (target) for (const v of toWrite) out.posts.push(recordBody(name, type, target.ttl, v));
  return out;
}

function merge(into: CfBatch, b: CfBatch): void {
  into.deletes.push(...b.deletes);
  into.patches.push(...b.patches);
  into.posts.push(...b.posts);
}

/**
 * Packs per-RRset batches into requests of at most `limit` records. An RRset's operations stay in one request
 * (so nobody sees it half-changed) unless that RRset alone is larger than the limit. Order is kept.
 */
export function packBatches(parts: readonly CfBatch[], limit: number): CfBatch[] {
  const max = Math.max(1, limit);
  const out: CfBatch[] = [];
  let cur = emptyBatch();
  const flush = () => {
    if (batchSize(cur) > 0) out.push(cur);
    cur = emptyBatch();
  };
  for (const part of parts) {
    const n = batchSize(part);
    if (n === 0) continue;
    if (n > max) {
      flush();
      const ops: CfBatch[] = [
        ...part.deletes.map((d) => ({ ...emptyBatch(), deletes: [d] })),
        ...part.patches.map((p) => ({ ...emptyBatch(), patches: [p] })),
        ...part.posts.map((p) => ({ ...emptyBatch(), posts: [p] })),
      ];
      for (const op of ops) {
        if (batchSize(cur) + 1 > max) flush();
        merge(cur, op);
      }
      flush();
      continue;
    }
    if (batchSize(cur) + n > max) flush();
    merge(cur, part);
  }
  flush();
  return out;
}
