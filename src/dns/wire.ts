/**
 * Low-level DNS wire helpers on top of `dns-packet`. dns-packet encodes whole messages but cannot express the
 * RFC 2136 pieces (class NONE, empty RDATA, raw section offsets), so UPDATE/TSIG code builds messages from the
 * parts below. Names are written uncompressed, which every server accepts and TSIG needs anyway.
 */
import packet from 'dns-packet';

interface NameCodec {
  encode: ((name: string, buf?: Buffer, offset?: number, opts?: { mail?: boolean }) => Buffer) & { bytes: number };
  decode: ((buf: Buffer, offset?: number, opts?: { mail?: boolean }) => string) & { bytes: number };
}
interface RdataCodec {
  /** Writes a 2-byte RDLENGTH then the RDATA. */
  encode(data: unknown, buf?: Buffer, offset?: number): Buffer;
  decode: ((buf: Buffer, offset?: number) => unknown) & { bytes: number };
}
interface PacketInternals {
  name: NameCodec;
  record(type: string): RdataCodec;
}

// dns-packet exports these at runtime; @types/dns-packet does not declare them.
const internals = packet as unknown as PacketInternals;

export const CLASS_IN = 1;
export const CLASS_NONE = 254;
export const CLASS_ANY = 255;
export const TYPE_SOA = 6;
export const TYPE_TSIG = 250;
export const TYPE_AXFR = 252;
export const TYPE_ANY = 255;
export const OPCODE_QUERY = 0;
export const OPCODE_UPDATE = 5;

export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN',
  7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
};

const TYPE_NUMBERS: Record<string, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, SRV: 33, CAA: 257, TSIG: 250, AXFR: 252,
};

export function typeNumber(type: string): number {
  const n = TYPE_NUMBERS[type.toUpperCase()];
  if (n === undefined) throw new Error(`unsupported record type ${type}`);
  return n;
}

/** Wire form of a name, uncompressed; lower-cased when `canonical` (RFC 4034 §6.2, used inside TSIG digests). */
export function encodeName(name: string, canonical = false): Buffer {
  const n = canonical ? name.toLowerCase() : name;
  return Buffer.from(internals.name.encode(n === '' ? '.' : n));
}

/** Reads a (possibly compressed) name at `offset`; returns it and the bytes it took in place. */
export function decodeName(buf: Buffer, offset: number): { name: string; bytes: number } {
  const name = internals.name.decode(buf, offset);
  return { name, bytes: internals.name.decode.bytes };
}

/** RDATA (without RDLENGTH) of one record, from dns-packet's data object for `type`. */
export function encodeRdata(type: string, data: unknown): Buffer {
  return Buffer.from(internals.record(type).encode(data)).subarray(2);
}

/** dns-packet's data object for RDATA at `offset` (pointing at RDLENGTH) in a whole message. */
export function decodeRdata(type: string, buf: Buffer, offset: number): unknown {
  return internals.record(type).decode(buf, offset);
}

export interface RawRecord {
  name: string;
  type: number;
  klass: number;
  ttl: number;
  rdata: Buffer;
}

export function encodeRecord(r: RawRecord): Buffer {
  const owner = encodeName(r.name);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(r.type, 0);
  fixed.writeUInt16BE(r.klass, 2);
  fixed.writeUInt32BE(r.ttl >>> 0, 4);
  fixed.writeUInt16BE(r.rdata.length, 8);
  return Buffer.concat([owner, fixed, r.rdata]);
}

export interface MessageParts {
  id: number;
  opcode: number;
  /** Extra header flag bits (e.g. RD); QR stays 0 (a request). */
  flags?: number;
  /** Question / zone section: name, type, class. */
  question: { name: string; type: number; klass?: number };
  answers?: Buffer[];
  authorities?: Buffer[];
  additionals?: Buffer[];
}

/** A request message from already-encoded records. */
export function encodeMessage(m: MessageParts): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(m.id, 0);
  header.writeUInt16BE(((m.opcode & 0xf) << 11) | ((m.flags ?? 0) & 0x07f0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(m.answers?.length ?? 0, 6);
  header.writeUInt16BE(m.authorities?.length ?? 0, 8);
  header.writeUInt16BE(m.additionals?.length ?? 0, 10);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(m.question.type, 0);
  q.writeUInt16BE(m.question.klass ?? CLASS_IN, 2);
  return Buffer.concat([header, encodeName(m.question.name), q, ...(m.answers ?? []), ...(m.authorities ?? []), ...(m.additionals ?? [])]);
}

export interface RecordOffset {
  /** Where the record's owner name starts. */
  start: number;
  /** Where its RDLENGTH field starts. */
  rdlengthAt: number;
  end: number;
  type: number;
  klass: number;
  ttl: number;
  name: string;
}

export interface MessageLayout {
  id: number;
  flags: number;
  rcode: number;
  qdcount: number;
  sections: { answers: RecordOffset[]; authorities: RecordOffset[]; additionals: RecordOffset[] };
}

/** Walks a message and returns where each record sits, without interpreting RDATA. Throws on a malformed message. */
export function layout(buf: Buffer): MessageLayout {
  if (buf.length < 12) throw new Error('DNS message shorter than its header');
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let off = 12;
  for (let i = 0; i < counts[0]; i++) {
    off += decodeName(buf, off).bytes + 4;
  }
  const readSection = (n: number): RecordOffset[] => {
    const out: RecordOffset[] = [];
    for (let i = 0; i < n; i++) {
      const start = off;
      const { name, bytes } = decodeName(buf, off);
      off += bytes;
      if (off + 10 > buf.length) throw new Error('DNS record header past the end of the message');
      const type = buf.readUInt16BE(off);
      const klass = buf.readUInt16BE(off + 2);
      const ttl = buf.readUInt32BE(off + 4);
      const rdlengthAt = off + 8;
      const end = rdlengthAt + 2 + buf.readUInt16BE(rdlengthAt);
      if (end > buf.length) throw new Error('DNS record data past the end of the message');
      out.push({ start, rdlengthAt, end, type, klass, ttl, name });
      off = end;
    }
    return out;
  };
  const answers = readSection(counts[1]);
  const authorities = readSection(counts[2]);
  const additionals = readSection(counts[3]);
  const flags = buf.readUInt16BE(2);
  return { id: buf.readUInt16BE(0), flags, rcode: flags & 0xf, qdcount: counts[0], sections: { answers, authorities, additionals } };
}

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}
