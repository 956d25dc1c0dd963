import { normalizeName, type RecordType } from '../../domain/records.ts';

/**
 * Conversion between flotilla's record values and PowerDNS API `content` (zone-file presentation format):
 * names are absolute with a trailing dot, TXT is quoted character-strings of at most 255 bytes.
 */
export function toPdnsContent(type: RecordType, value: string): string {
  const f = value.trim().split(/\s+/);
  switch (type) {
    case 'CNAME':
    case 'NS':
      return fqdn(value);
    case 'MX':
      return `${Number(f[0])} ${fqdn(f[1] ?? '')}`;
    case 'SRV':
      return `${f[0]} ${f[1]} ${f[2]} ${fqdn(f[3] ?? '')}`;
    case 'SOA':
      return [fqdn(f[0]), fqdn(f[1] ?? ''), ...f.slice(2)].join(' ');
    case 'TXT':
      return quoteTxt(value);
    default:
      return value.trim();
  }
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

/** One text → `"chunk" "chunk"`, 255 bytes each; `"` and `\` escaped, bytes outside printable ASCII as \DDD. */
export function quoteTxt(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const parts: string[] = [];
  for (let i = 0; i === 0 || i < bytes.length; i += 255) {
    let s = '';
    for (const b of bytes.subarray(i, i + 255)) {
      if (b === 0x22 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
      else if (b < 0x20 || b > 0x7e) s += `\\${String(b).padStart(3, '0')}`;
      else s += String.fromCharCode(b);
    }
    parts.push(`"${s}"`);
  }
  return parts.join(' ');
}

/** `"a" "b"` (or bare words) → the joined text, escapes decoded byte-wise so UTF-8 split across chunks survives. */
export function unquoteTxt(content: string): string {
  const out: number[] = [];
  const s = content.trim();
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    const quoted = s[i] === '"';
    if (quoted) i++;
    while (i < s.length && (quoted ? s[i] !== '"' : !/\s/.test(s[i]))) {
      if (s[i] === '\\' && i + 1 < s.length) {
        const ddd = /^\d{3}/.exec(s.slice(i + 1, i + 4));
        if (ddd) {
          out.push(Number(ddd[0]) & 0xff);
          i += 4;
        } else {
          out.push(...Buffer.from(s[i + 1], 'utf8'));
          i += 2;
        }
        continue;
      }
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      out.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
    if (quoted) i++; // closing quote
  }
  return Buffer.from(out).toString('utf8');
}
