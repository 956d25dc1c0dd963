import { normalizeName, normalizeValue, type RecordType } from './records.ts';

/**
 * One record's decoded wire data (as the dns-packet library gives it) → its value in flotilla's presentation form
 * (src/domain/records.ts): TXT strings joined, names without the trailing dot, CAA as `0 issue "ca.example"`.
 * Shared by the DNS client (verification, probes) and the RFC 2136 driver (AXFR).
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
