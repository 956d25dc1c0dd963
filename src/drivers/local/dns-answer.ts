import type { Answer } from 'dns-packet';
import { inZone, normalizeName, type RecordSet } from '../../domain/records.ts';
import { toPacketData } from '../../dns/rdata.ts';
import type { ZoneIndex } from './zone-index.ts';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** What the server answers for one question, before it is put on the wire. */
export interface Resolution {
  rcode: number;
  /** AA flag: set for every answer from a zone we serve, except referrals. */
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** Longest CNAME chain followed before giving up (loops end earlier). */
const MAX_CHAIN = 8;

/**
 * Answers one question from the zones `zoneFor` knows (pure: no I/O).
 * REFUSED outside our zones; CNAMEs chased inside the zone; NXDOMAIN and NODATA carry the SOA in authority
 * with the negative TTL; names below a delegation get a referral; ANY gets one RRset of the name (RFC 8482).
 */
export function resolveQuestion(zoneFor: (qname: string) => ZoneIndex | undefined, qnameRaw: string, qtype: string): Resolution {
  const qname = normalizeName(qnameRaw);
  const zone = zoneFor(qname);
  if (!zone) return { rcode: RCODE.REFUSED, authoritative: false, answers: [], authorities: [], additionals: [] };
  const answers: Answer[] = [];
  const done = (rcode: number, authorities: Answer[] = []): Resolution => ({ rcode, authoritative: true, answers, authorities, additionals: [] });
  const negative = () => [{ ...toAnswers(zone.soa)[0], ttl: zone.negativeTtl() } as Answer];
  const seen = new Set<string>();

  let name = qname;
  for (let hop = 0; hop <= MAX_CHAIN; hop++) {
    const cut = zone.delegation(name);
    if (cut) {
      if (answers.length > 0) return done(RCODE.NOERROR); // a chain leading into delegated space stops here
      return { rcode: RCODE.NOERROR, authoritative: false, answers, authorities: toAnswers(cut), additionals: glue(zone, cut) };
    }
    const node = zone.node(name);
    if (!node) return zone.exists(name) ? done(RCODE.NOERROR, negative()) : done(RCODE.NXDOMAIN, negative());
    if (qtype === 'ANY') {
      // RFC 8482: one RRset, not the whole node (a full answer is an ~8x amplifier); ANY_PREFERENCE says which
      answers.push(...toAnswers(minimalAny(node)));
      return done(RCODE.NOERROR);
    }
    const rr = node.get(qtype as RecordSet['type']);
    if (rr) {
      answers.push(...toAnswers(rr));
      return done(RCODE.NOERROR);
    }
    const cname = node.get('CNAME');
    if (!cname) return done(RCODE.NOERROR, negative());
    answers.push(...toAnswers(cname));
    seen.add(name);
    const target = normalizeName(cname.values[0]);
    if (seen.has(target) || !inZone(target, zone.zone)) return done(RCODE.NOERROR);
    name = target;
  }
  return done(RCODE.NOERROR);
}

/** Which RRset a node answers ANY with: the addresses first, since that is what a client most likely wants. */
const ANY_PREFERENCE: readonly RecordSet['type'][] = ['CNAME', 'A', 'AAAA', 'MX', 'TXT', 'SRV', 'CAA', 'NS', 'SOA'];

function minimalAny(node: ReadonlyMap<RecordSet['type'], RecordSet>): RecordSet {
  for (const t of ANY_PREFERENCE) {
    const rr = node.get(t);
    if (rr) return rr;
  }
  return node.values().next().value!;
}

/** The records of an AXFR: SOA, every other RRset, SOA again. */
export function zoneTransfer(zone: ZoneIndex): Answer[] {
  const soa = toAnswers(zone.soa);
  const rest = zone.data.rrsets.filter((r) => r.type !== 'SOA').flatMap(toAnswers);
  return [...soa, ...rest, ...soa];
}

function glue(zone: ZoneIndex, ns: RecordSet): Answer[] {
  const out: Answer[] = [];
  for (const target of ns.values) {
    const node = zone.node(normalizeName(target));
    for (const t of ['A', 'AAAA'] as const) {
      const rr = node?.get(t);
      if (rr) out.push(...toAnswers(rr));
    }
  }
  return out;
}

/** Wire form of each RRset, computed once per stored RRset (they are immutable). */
const wireCache = new WeakMap<RecordSet, Answer[]>();

export function toAnswers(rr: RecordSet): Answer[] {
  let out = wireCache.get(rr);
  if (!out) {
    out = rr.values.map((v) => ({ name: rr.name, type: rr.type, class: 'IN', ttl: rr.ttl, data: toPacketData(rr.type, v) }) as Answer);
    wireCache.set(rr, out);
  }
  return out;
}


