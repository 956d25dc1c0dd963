/**
 * Builds RFC 2136 UPDATE messages from flotilla changes. Pure: same changes, same bytes (apart from the id).
 * - create: prerequisite "RRset does not exist" (§2.4.3) + add each value
 * - update: delete the RRset (§2.5.2) + add each new value, in the same message so the server applies both or neither
 * - delete: delete the RRset
 * The apex NS and SOA RRsets cannot be deleted as a whole (§3.4.2.3/4), so they are edited value by value instead.
 */
import { normalizeName, normalizeValue, type Change, type RecordSet } from '../../domain/records.ts';
import { toPacketData } from '../../dns/rdata.ts';
import { CLASS_ANY, CLASS_IN, CLASS_NONE, OPCODE_UPDATE, TYPE_SOA, encodeMessage, encodeRdata, encodeRecord, typeNumber } from '../../dns/wire.ts';

function valueRecord(r: RecordSet, value: string, klass: number, ttl: number): Buffer {
  return encodeRecord({ name: r.name, type: typeNumber(r.type), klass, ttl, rdata: encodeRdata(r.type, toPacketData(r.type, value)) });
}

function adds(r: RecordSet): Buffer[] {
  return r.values.map((v) => valueRecord(r, v, CLASS_IN, r.ttl));
}

/** "Delete an RRset" (class ANY) or, used as a prerequisite, "RRset does not exist" (class NONE); both with no RDATA. */
function emptyRecord(r: RecordSet, klass: number): Buffer {
  return encodeRecord({ name: r.name, type: typeNumber(r.type), klass, ttl: 0, rdata: Buffer.alloc(0) });
}

/** "Delete an RR from an RRset" (class NONE, with RDATA) for each value of `values`. */
function valueDeletes(r: RecordSet, values: string[]): Buffer[] {
  return values.map((v) => valueRecord(r, v, CLASS_NONE, 0));
}

function removedValues(before: RecordSet, after: RecordSet | undefined): string[] {
  const keep = new Set((after?.values ?? []).map((v) => normalizeValue(after!.type, v)));
  return before.values.filter((v) => !keep.has(normalizeValue(before.type, v)));
}

export interface UpdateSections {
  prerequisites: Buffer[];
  updates: Buffer[];
}

/** The prerequisite and update records for one change. Throws a plain Error for a change no UPDATE can express. */
export function changeRecords(zone: string, change: Change): UpdateSections {
  const z = normalizeName(zone);
  const target = change.action === 'delete' ? change.before : change.after;
  const apex = normalizeName(target.name) === z;
  const valueWise = apex && target.type === 'NS';
  if (target.type === 'SOA') {
    if (change.action !== 'update') throw new Error(`the SOA record can only be updated, not ${change.action}d`);
    return { prerequisites: [], updates: adds(change.after) };
  }
  switch (change.action) {
    case 'create':
      return { prerequisites: [emptyRecord(change.after, CLASS_NONE)], updates: adds(change.after) };
    case 'update':
      return {
        prerequisites: [],
        updates: valueWise
          ? [...valueDeletes(change.before, removedValues(change.before, change.after)), ...adds(change.after)]
          : [emptyRecord(change.after, CLASS_ANY), ...adds(change.after)],
      };
    case 'delete':
      return {
        prerequisites: [],
        updates: valueWise ? valueDeletes(change.before, change.before.values) : [emptyRecord(change.before, CLASS_ANY)],
      };
  }
}

/** One UPDATE message (unsigned) carrying all `changes` for `zone`. */
export function buildUpdate(zone: string, changes: readonly Change[], id: number): Buffer {
  const prerequisites: Buffer[] = [];
  const updates: Buffer[] = [];
  for (const c of changes) {
    const s = changeRecords(zone, c);
    prerequisites.push(...s.prerequisites);
    updates.push(...s.updates);
  }
  return encodeMessage({
    id,
    opcode: OPCODE_UPDATE,
    question: { name: normalizeName(zone), type: TYPE_SOA, klass: CLASS_IN },
    answers: prerequisites,
    authorities: updates,
  });
}

/** Room kept for the header, zone section and TSIG record when sizing a batch. */
const OVERHEAD = 512;

/**
 * Splits changes into UPDATE-sized batches: at most `maxChanges` each and, so a message always fits the 64 KiB
 * TCP frame, at most `maxBytes` of records. Order is kept. Throws a plain Error for one change too large alone.
 */
export function updateBatches(zone: string, changes: readonly Change[], maxChanges: number, maxBytes = 60_000): Change[][] {
  const out: Change[][] = [];
  let current: Change[] = [];
  let bytes = 0;
  for (const c of changes) {
    const s = changeRecords(zone, c);
    const size = [...s.prerequisites, ...s.updates].reduce((n, b) => n + b.length, 0);
    if (size + OVERHEAD > maxBytes) throw new Error(`the change to ${rrLabel(c)} needs ${size} bytes, more than one UPDATE message can carry`);
    if (current.length > 0 && (current.length >= maxChanges || bytes + size + OVERHEAD > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(c);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function rrLabel(c: Change): string {
  const r = c.action === 'delete' ? c.before : c.after;
  return `${r.name}/${r.type}`;
}
