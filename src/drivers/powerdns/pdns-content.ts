import { quoteTxt as quoteZoneTxt, toZoneFileValue, unquoteTxt as unquoteZoneTxt } from '../../dns/zone-file-values.ts';
import { normalizeName, type RecordType } from '../../domain/records.ts';

/**
 * Conversion between flotilla's record values and PowerDNS API `content` (zone-file presentation format):
 * names are absolute with a trailing dot, TXT is quoted character-strings of at most 255 bytes.
 */
export function toPdnsContent(type: RecordType, value: string): string {
  if (type === 'SOA') {
    const f = value.trim().split(/\s+/);
    return [fqdn(f[0]), fqdn(f[1] ?? ''), ...f.slice(2)].join(' ');
  }
  return toZoneFileValue(type, value.trim(), 'decimal');
}

export function fromPdnsContent(type: RecordType, content: string): string {
  const f = content.trim().split(/\s+/);
  switch (type) {
    case 'CNAME':
    case 'NS':
      return normalizeName(content);
    case 'MX':
      return `${Number(f[0])} ${normalizeName(f[1] ?? '')}`;
    case 'SRV':
      return `${f[0]} ${f[1]} ${f[2]} ${normalizeName(f[3] ?? '')}`;
    case 'SOA':
      return [normalizeName(f[0]), normalizeName(f[1] ?? ''), ...f.slice(2)].join(' ');
    case 'TXT':
      return unquoteTxt(content);
    default:
      return content.trim();
  }
}

function fqdn(name: string): string {
  return `${normalizeName(name)}.`;
}

/** Text → PowerDNS TXT content: quoted strings of at most 255 bytes, \DDD for other bytes. */
export const quoteTxt = (text: string): string => quoteZoneTxt(text, 'decimal');

/** PowerDNS TXT content → text. */
export const unquoteTxt = (content: string): string => unquoteZoneTxt(content, 'decimal');
