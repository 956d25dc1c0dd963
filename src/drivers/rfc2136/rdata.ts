/**
 * Converts record values between flotilla's presentation strings (see src/domain/records.ts) and dns-packet's
 * data objects. CAA is `flags tag "value"`, SRV is `priority weight port target`, as zone files write them.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { rdataToValue } from '../../domain/dns-rdata.ts';
import { normalizeName, normalizeValue, type RecordType } from '../../domain/records.ts';

/** TXT text as character-strings of at most 255 bytes each (RFC 1035 §3.3.14). */
export function txtChunks(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return [Buffer.alloc(0)];
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
  return out;
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
      return txtChunks(value);
    case 'MX': {
      const [pref, exchange] = fields(value, 2, type);
      return { preference: num(pref, 'MX preference'), exchange: normalizeName(exchange) };
    }
    case 'SRV': {
      const [priority, weight, port, target] = fields(value, 4, type);
      return { priority: num(priority, 'SRV priority'), weight: num(weight, 'SRV weight'), port: num(port, 'SRV port'), target: normalizeName(target) };
    }
    case 'CAA': {
      const m = /^\s*(\d+)\s+([A-Za-z0-9]+)\s+(.*?)\s*$/.exec(value);
      if (!m) throw new Error(`CAA value "${value}" is not "flags tag value"`);
      const v = m[3].startsWith('"') && m[3].endsWith('"') && m[3].length >= 2 ? m[3].slice(1, -1) : m[3];
      return { flags: num(m[1], 'CAA flags'), tag: m[2].toLowerCase(), value: v };
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
