/**
 * A TXT value is one text; DNS carries it as character-strings of at most 255 bytes each (RFC 1035 §3.3.14).
 * The one splitter for the wire (rdata.ts, the embedded server) and for zone files (zone-file-values.ts, Pulumi).
 * Splits never inside a UTF-8 character, so each chunk is valid text on its own; empty text is one empty string.
 */
export function txtChunks(text: string): string[] {
  const chunks: string[] = [];
  let cur = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > 255) {
      chunks.push(cur);
      cur = '';
      bytes = 0;
    }
    cur += ch;
    bytes += n;
  }
  chunks.push(cur);
  return chunks;
}
