/**
 * TSIG (RFC 8945): HMAC signatures on DNS messages with a shared secret.
 * Pure functions over raw message bytes: sign a request, verify a server's (possibly multi-message) response.
 * A TSIG record is always the last record of the additional section.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CLASS_ANY, TYPE_TSIG, decodeName, encodeName, encodeRecord, layout } from './wire.ts';

// the algorithms as data live apart so settings schemas need not load the wire code
export { TSIG_ALGORITHMS, type TsigAlgorithm } from './tsig-algorithms.ts';
import type { TsigAlgorithm } from './tsig-algorithms.ts';

const HASHES: Record<TsigAlgorithm, { hash: string; macLength: number }> = {
  'hmac-sha256': { hash: 'sha256', macLength: 32 },
  'hmac-sha512': { hash: 'sha512', macLength: 64 },
  'hmac-sha1': { hash: 'sha1', macLength: 20 },
};

/** TSIG error codes a server puts in its TSIG record (RFC 8945 §3). */
export const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

export function tsigErrorName(code: number): string {
  return TSIG_ERRORS[code] ?? (code === 0 ? 'NOERROR' : `TSIG error ${code}`);
}

export interface TsigKey {
  /** Key name as configured on the server, e.g. `flotilla-key`. */
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

/** The fields of a TSIG record. `algorithm` and `keyName` are lower-case without the trailing dot. */
export interface TsigRecord {
  keyName: string;
  algorithm: string;
  /** Seconds since the epoch. */
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  otherData: Buffer;
}

export const DEFAULT_FUDGE = 300;

/** Builds a key from its base64 secret; throws a plain Error (without the secret) when it is not base64. */
export function tsigKey(name: string, algorithm: TsigAlgorithm, secretBase64: string): TsigKey {
  const s = secretBase64.trim();
  if (s === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
    throw new Error(`the TSIG secret for key ${name} is not valid base64`);
  }
  return { name: name.toLowerCase().replace(/\.$/, ''), algorithm, secret: Buffer.from(s, 'base64') };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

function timers(timeSigned: number, fudge: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUIntBE(timeSigned, 0, 6);
  b.writeUInt16BE(fudge, 6);
  return b;
}

/** The "TSIG variables" covered by the MAC of a first (or only) message (RFC 8945 §4.3.3). */
function variables(key: TsigKey, timeSigned: number, fudge: number, error: number, otherData: Buffer): Buffer {
  const classTtl = Buffer.alloc(6);
  classTtl.writeUInt16BE(CLASS_ANY, 0);
  return Buffer.concat([
    encodeName(key.name, true),
    classTtl,
    encodeName(key.algorithm, true),
    timers(timeSigned, fudge),
    u16(error),
    u16(otherData.length),
    otherData,
  ]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const h = createHmac(HASHES[key.algorithm].hash, key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

function priorMac(mac: Buffer | undefined): Buffer[] {
  return mac === undefined ? [] : [u16(mac.length), mac];
}

export interface SignOptions {
  /** The request's MAC when signing a response, or the previous message's MAC inside a multi-message answer. */
  priorMac?: Buffer;
  /** Sign as a subsequent message of a multi-message answer (digest covers only the timers, RFC 8945 §5.3.1). */
  subsequent?: boolean;
  /** Milliseconds since the epoch; default Date.now(). */
  now?: number;
  fudge?: number;
  error?: number;
  otherData?: Buffer;
}

/** Appends a TSIG record to `message` (which must not carry one yet). Returns the signed message and its MAC. */
export function signMessage(message: Buffer, key: TsigKey, opts: SignOptions = {}): { message: Buffer; mac: Buffer } {
  const timeSigned = Math.floor((opts.now ?? Date.now()) / 1000);
  const fudge = opts.fudge ?? DEFAULT_FUDGE;
  const error = opts.error ?? 0;
  const otherData = opts.otherData ?? Buffer.alloc(0);
  const tail = opts.subsequent ? timers(timeSigned, fudge) : variables(key, timeSigned, fudge, error, otherData);
  const mac = hmac(key, [...priorMac(opts.priorMac), message, tail]);
  const originalId = message.readUInt16BE(0);
  const rdata = Buffer.concat([
    encodeName(key.algorithm, true),
    timers(timeSigned, fudge),
    u16(mac.length),
    mac,
    u16(originalId),
    u16(error),
    u16(otherData.length),
    otherData,
  ]);
  const rr = encodeRecord({ name: key.name, type: TYPE_TSIG, klass: CLASS_ANY, ttl: 0, rdata });
  const signed = Buffer.concat([message, rr]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: signed, mac };
}

/**
 * Splits a message into its TSIG record and the message as it was before signing (TSIG removed, ARCOUNT
 * decremented, ID restored to the original ID). Undefined when the message carries no TSIG. Throws when malformed.
 */
export function splitTsig(message: Buffer): { unsigned: Buffer; tsig: TsigRecord } | undefined {
  const l = layout(message);
  const last = l.sections.additionals.at(-1);
  if (!last || last.type !== TYPE_TSIG) return undefined;
  let off = last.rdlengthAt + 2;
  const alg = decodeName(message, off);
  off += alg.bytes;
  const timeSigned = message.readUIntBE(off, 6);
  const fudge = message.readUInt16BE(off + 6);
  const macSize = message.readUInt16BE(off + 8);
  off += 10;
  const mac = Buffer.from(message.subarray(off, off + macSize));
  off += macSize;
  const originalId = message.readUInt16BE(off);
  const error = message.readUInt16BE(off + 2);
  const otherLen = message.readUInt16BE(off + 4);
  const otherData = Buffer.from(message.subarray(off + 6, off + 6 + otherLen));
  if (off + 6 + otherLen !== last.end || mac.length !== macSize) throw new Error('malformed TSIG record');
  const unsigned = Buffer.from(message.subarray(0, last.start));
  unsigned.writeUInt16BE(originalId, 0);
  unsigned.writeUInt16BE(l.sections.additionals.length - 1, 10);
  const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');
  return {
    unsigned,
    tsig: { keyName: norm(last.name), algorithm: norm(alg.name), timeSigned, fudge, mac, originalId, error, otherData },
  };
}

export interface TsigVerdict {
  /** The message carried a TSIG record. */
  signed: boolean;
  /** The signature verified (or, for a later message of a multi-message answer, may still be covered by a later one). */
  ok: boolean;
  /** The TSIG error the server reported (BADSIG, BADKEY, ...), 0 when none. */
  error: number;
  /** Why it did not verify. */
  reason?: string;
  tsig?: TsigRecord;
}

function macMatches(key: TsigKey, mac: Buffer, expected: Buffer): boolean {
  // Truncated MACs are allowed down to half the hash and never below 10 bytes (RFC 8945 §5.2.2.1).
  const full = HASHES[key.algorithm].macLength;
  if (mac.length > full || mac.length < Math.max(10, Math.ceil(full / 2))) return false;
  return timingSafeEqual(mac, expected.subarray(0, mac.length));
}

function checkKey(key: TsigKey, t: TsigRecord): string | undefined {
  if (t.keyName !== key.name.toLowerCase()) return `signed with key ${t.keyName}, expected ${key.name}`;
  if (t.algorithm !== key.algorithm) return `signed with ${t.algorithm}, expected ${key.algorithm}`;
  return undefined;
}

function checkTime(t: TsigRecord, nowMs: number): string | undefined {
  const skew = Math.abs(Math.floor(nowMs / 1000) - t.timeSigned);
  return skew > t.fudge ? `BADTIME: signed ${skew}s away from local time (fudge ${t.fudge}s)` : undefined;
}

/** Verifies a signed request (what a server does); returns its MAC for signing the response. */
export function verifyRequest(message: Buffer, key: TsigKey, opts: { now?: number } = {}): TsigVerdict {
  const split = splitTsig(message);
  if (!split) return { signed: false, ok: false, error: 0, reason: 'request is not signed' };
  const { unsigned, tsig } = split;
  const wrongKey = checkKey(key, tsig);
  if (wrongKey) return { signed: true, ok: false, error: 17, reason: wrongKey, tsig };
  const expected = hmac(key, [unsigned, variables(key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.otherData)]);
  if (!macMatches(key, tsig.mac, expected)) return { signed: true, ok: false, error: 16, reason: 'BADSIG: the MAC does not match', tsig };
  const late = checkTime(tsig, opts.now ?? Date.now());
  if (late) return { signed: true, ok: false, error: 18, reason: late, tsig };
  return { signed: true, ok: true, error: 0, tsig };
}

/**
 * Verifies the message(s) answering one signed request, in order. The first must be signed over the request MAC;
 * later messages (AXFR over TCP) chain the previous MAC and may leave up to 99 messages unsigned in between
 * (RFC 8945 §5.3.1). Call `finish()` after the last message: the last one must be signed.
 */
export class ResponseVerifier {
  private prior: Buffer;
  private pending: Buffer[] = [];
  private first = true;
  constructor(
    private readonly key: TsigKey,
    requestMac: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    this.prior = requestMac;
  }

  verify(message: Buffer): TsigVerdict {
    const split = splitTsig(message);
    if (!split) {
      if (this.first) return { signed: false, ok: false, error: 0, reason: 'the response is not signed' };
      this.pending.push(message);
      if (this.pending.length > 99) return { signed: false, ok: false, error: 0, reason: 'more than 99 unsigned messages in a row' };
      return { signed: false, ok: true, error: 0 };
    }
    const { unsigned, tsig } = split;
    const wrongKey = checkKey(this.key, tsig);
    if (wrongKey) return { signed: true, ok: false, error: tsig.error, reason: wrongKey, tsig };
    if (tsig.error !== 0) return { signed: true, ok: false, error: tsig.error, reason: `the server answered ${tsigErrorName(tsig.error)}`, tsig };
    const tail = this.first
      ? variables(this.key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.otherData)
      : timers(tsig.timeSigned, tsig.fudge);
    const expected = hmac(this.key, [...priorMac(this.prior), ...this.pending, unsigned, tail]);
    if (!macMatches(this.key, tsig.mac, expected)) return { signed: true, ok: false, error: 0, reason: 'the response MAC does not verify', tsig };
    const late = checkTime(tsig, this.now());
    if (late) return { signed: true, ok: false, error: 0, reason: late, tsig };
    this.prior = tsig.mac;
    this.pending = [];
    this.first = false;
    return { signed: true, ok: true, error: 0, tsig };
  }

  /** After the last message: fails when trailing messages were never covered by a signature. */
  finish(): { ok: boolean; reason?: string } {
    if (this.first) return { ok: false, reason: 'no signed response' };
    if (this.pending.length > 0) return { ok: false, reason: `the last ${this.pending.length} message(s) are not signed` };
    return { ok: true };
  }
}

/** Bytes a full-length TSIG record with `key` adds to a message (to keep a signed UDP answer within the client's size). */
export function tsigRecordLength(key: TsigKey): number {
  return encodeName(key.name).length + 10 + encodeName(key.algorithm).length + 16 + HASHES[key.algorithm].macLength;
}

/** RCODE of a response whose request failed TSIG verification (RFC 8945 §5.2). */
export const RCODE_NOTAUTH = 9;

/**
 * Appends a TSIG record without a MAC: how a server answers a request whose key or MAC it cannot accept (BADKEY,
 * BADSIG: it "MUST NOT send back a signed error message", RFC 8945 §5.3.2). Names the request's key and algorithm.
 */
export function appendUnsignedTsig(message: Buffer, request: TsigRecord, error: number, opts: { now?: number } = {}): Buffer {
  const rdata = Buffer.concat([
    encodeName(request.algorithm, true),
    timers(Math.floor((opts.now ?? Date.now()) / 1000), request.fudge),
    u16(0),
    u16(message.readUInt16BE(0)),
    u16(error),
    u16(0),
  ]);
  const rr = encodeRecord({ name: request.keyName, type: TYPE_TSIG, klass: CLASS_ANY, ttl: 0, rdata });
  const out = Buffer.concat([message, rr]);
  out.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return out;
}

/**
 * What a server sends back for a request `verifyRequest` rejected, given the unsigned response (RCODE NOTAUTH):
 * BADKEY and BADSIG unsigned; BADTIME signed over the request MAC with the request's time and the server's time
 * in Other Data, so the client can verify it and see the skew (RFC 8945 §5.2.3, §5.3.2).
 */
export function signErrorResponse(response: Buffer, key: TsigKey, verdict: TsigVerdict, opts: { now?: number } = {}): Buffer {
  const t = verdict.tsig;
  if (!t) return response;
  const now = opts.now ?? Date.now();
  if (verdict.error !== 18) return appendUnsignedTsig(response, t, verdict.error, { now });
  const serverTime = Buffer.alloc(6);
  serverTime.writeUIntBE(Math.floor(now / 1000), 0, 6);
  return signMessage(response, key, { priorMac: t.mac, now: t.timeSigned * 1000, fudge: t.fudge, error: 18, otherData: serverTime }).message;
}

/**
 * Signs the message(s) answering a verified request: the first over the request MAC, each later one chained to
 * the previous MAC (RFC 8945 §5.3, §5.3.1; every message of a transfer is signed, the simplest valid choice).
 */
export function signResponses(messages: readonly Buffer[], key: TsigKey, requestMac: Buffer, opts: { now?: number } = {}): Buffer[] {
  let prior = requestMac;
  return messages.map((m, i) => {
    const s = signMessage(m, key, { priorMac: prior, subsequent: i > 0, now: opts.now });
    prior = s.mac;
    return s.message;
  });
}
