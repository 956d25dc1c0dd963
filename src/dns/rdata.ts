/**
 * Converts record values between flotilla's presentation strings (see src/domain/records.ts) and dns-packet's
 * data objects. CAA is `flags tag "value"`, SRV is `priority weight port target`, as zone files write them.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { normalizeName, normalizeValue, type RecordType } from '../domain/records.ts';
import { txtChunks } from './txt-chunks.ts';

/** `0 issue "letsencrypt.org"` → its parts, or undefined when malformed. */
export function parseCaa(v: string): { flags: number; tag: string; value: string } | undefined {
  const m = /^(\d{1,3})\s+([A-Za-z0-9]+)\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))$/.exec(v.trim());
  if (!m || Number(m[1]) > 255) return undefined;
  return { flags: Number(m[1]), tag: m[2].toLowerCase(), value: m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4] };
}

function fields(value: string, n: number, type: string): string[] {
  const parts = value.trim().split(/\s+/);
  if (parts.length !== n) throw new Error(`${type} value "${value}" needs ${n} fields`);
  return parts;
}

function num(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what} "${s}" is not a non-negative integer`);
  return n;
}

/** dns-packet data for one value; throws a plain Error for a value that cannot be written. */
export function toPacketData(type: RecordType, value: string): unknown {
  switch (type) {
    case 'A':
    case 'AAAA': {
      // dns-packet would encode a non-address as some other address: refuse it instead
      const ip = value.trim();
      if (!(type === 'A' ? isIPv4(ip) : isIPv6(ip))) throw new Error(`${type} value "${value}" is not an IPv${type === 'A' ? 4 : 6} address`);
      return ip;
    }
    case 'CNAME':
    case 'NS':
      return normalizeName(value);
    case 'TXT':
      return txtChunks(value).map((c) => Buffer.from(c, 'utf8'));
    case 'MX': {
      const [pref, exchange] = fields(value, 2, type);
      return { preference: num(pref, 'MX preference'), exchange: normalizeName(exchange) };
    }
    case 'SRV': {
      const [priority, weight, port, target] = fields(value, 4, type);
      return { priority: num(priority, 'SRV priority'), weight: num(weight, 'SRV weight'), port: num(port, 'SRV port'), target: normalizeName(target) };
    }
    case 'CAA': {
      const caa = parseCaa(value);
      if (!caa) throw new Error(`CAA value "${value}" is not "flags tag value"`);
      return caa;
    }
    case 'SOA': {
      const [mname, rname, serial, refresh, retry, expire, minimum] = fields(value, 7, type);
      return {
        mname: normalizeName(mname), rname: normalizeName(rname), serial: num(serial, 'SOA serial'), refresh: num(refresh, 'SOA refresh'),
        retry: num(retry, 'SOA retry'), expire: num(expire, 'SOA expire'), minimum: num(minimum, 'SOA minimum'),
      };
    }
  }
}

/** Presentation string of dns-packet data, normalised as src/domain/records.ts describes. */
export function fromPacketData(type: RecordType, data: unknown): string {
  return rdataToValue(type, data);
}

/**
 * One record's decoded wire data (as the dns-packet library gives it) → its value in flotilla's presentation form
 * (src/domain/records.ts): TXT strings joined, names without the trailing dot, CAA as `0 issue "ca.example"`.
 * Shared by the DNS client (verification, probes), the RFC 2136 driver (AXFR) and the embedded server.
 */
export function rdataToValue(type: string, data: unknown): string {
  switch (type) {
    case 'A':
    case 'AAAA':
    case 'CNAME':
    case 'NS':
      return normalizeValue(type as RecordType, String(data));
    case 'PTR':
    case 'DNAME':
      return normalizeName(String(data));
    case 'TXT': {
      const parts = Array.isArray(data) ? data : [data];
      return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(String(p))))).toString('utf8');
    }
    case 'MX': {
      const d = data as { preference: number; exchange: string };
      return `${d.preference} ${normalizeName(d.exchange)}`;
    }
    case 'SRV': {
      const d = data as { priority: number; weight: number; port: number; target: string };
      return `${d.priority} ${d.weight} ${d.port} ${normalizeName(d.target)}`;
    }
    case 'CAA': {
      const d = data as { flags: number; tag: string; value: string };
      return `${d.flags} ${d.tag} "${d.value}"`;
    }
    case 'SOA': {
      const d = data as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
      return `${normalizeName(d.mname)} ${normalizeName(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    }
    case 'DS': {
      const d = data as { keyTag: number; algorithm: number; digestType: number; digest: Buffer };
      return `${d.keyTag} ${d.algorithm} ${d.digestType} ${Buffer.from(d.digest).toString('hex').toUpperCase()}`;
    }
    default:
      return Buffer.isBuffer(data) ? data.toString('hex') : JSON.stringify(data);
  }
}
