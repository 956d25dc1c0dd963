import { normalizeName, type RecordType } from '../domain/records.ts';
import { txtChunks } from './txt-chunks.ts';

/**
 * Zone-file (RFC 1035 presentation) forms of record values, shared by the drivers whose APIs speak them:
 * TXT as quoted character-strings of at most 255 bytes, and targets as absolute names with a trailing dot.
 * `escape` is how a provider writes bytes outside printable ASCII: `decimal` (\DDD: PowerDNS, RFC 1035),
 * `octal` (\ooo: Route 53), or `none` (raw UTF-8 inside the quotes: Cloudflare, Hetzner).
 */
export type TxtEscape = 'decimal' | 'octal' | 'none';

/** Text → quoted character-strings of at most 255 bytes each, separated by spaces. */
export function quoteTxt(text: string, escape: TxtEscape): string {
  const chunks = txtChunks(text);
  const esc = (s: string) =>
    [...s]
      .map((c) => {
        if (c === '"' || c === '\\') return `\\${c}`;
        const code = c.codePointAt(0)!;
        if (escape === 'none' || (code >= 0x20 && code <= 0x7e)) return c;
        return [...Buffer.from(c)].map((b) => (escape === 'octal' ? `\\${b.toString(8).padStart(3, '0')}` : `\\${String(b).padStart(3, '0')}`)).join('');
      })
      .join('');
  return chunks.map((c) => `"${esc(c)}"`).join(' ');
}

/** Quoted character-strings → text (strings joined; `\X` and three-digit escapes decoded). Unquoted input is returned as it is. */
export function unquoteTxt(value: string, escape: TxtEscape): string {
  const s = value.trim();
  if (!s.startsWith('"')) return value;
  const bytes: number[] = [];
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') { quoted = !quoted; continue; }
    if (!quoted && /\s/.test(c)) continue;
    if (c === '\\' && i + 1 < s.length) {
      const digits = (escape === 'octal' ? /^[0-7]{3}/ : /^\d{3}/).exec(s.slice(i + 1, i + 4));
      if (digits) { bytes.push(parseInt(digits[0], escape === 'octal' ? 8 : 10)); i += 3; }
      else { bytes.push(...Buffer.from(s[i + 1])); i += 1; }
      continue;
    }
    bytes.push(...Buffer.from(c));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** flotilla value → zone-file value: TXT quoted, CNAME/NS/MX/SRV targets absolute with a trailing dot. */
export function toZoneFileValue(type: RecordType, value: string, escape: TxtEscape): string {
  switch (type) {
    case 'TXT':
      return quoteTxt(value, escape);
    case 'CNAME':
    case 'NS':
      return `${normalizeName(value)}.`;
    case 'MX': {
      const [pref, host] = value.trim().split(/\s+/);
      return `${Number(pref)} ${normalizeName(host ?? '')}.`;
    }
    case 'SRV': {
      const parts = value.trim().split(/\s+/);
      const target = parts.pop() ?? '';
      return [...parts, target === '.' ? '.' : `${normalizeName(target)}.`].join(' ');
    }
    default:
      return value;
  }
}
