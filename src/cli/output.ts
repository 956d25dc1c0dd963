/** Output helpers: plain tables for people, JSON for scripts. */
export interface Out {
  json: boolean;
  log(line?: string): void;
  err(line: string): void;
  data(value: unknown): void;
}

export function makeOut(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Out {
  return {
    json,
    log: (line = '') => { if (!json) stdout.write(line + '\n'); },
    err: (line) => stderr.write(line + '\n'),
    data: (value) => { if (json) stdout.write(JSON.stringify(value, null, 2) + '\n'); },
  };
}

/**
 * C0 and C1 control characters, DEL, and the Unicode bidi/line controls that can rewrite what a terminal shows
 * (ESC sequences move the cursor, clear the screen or set the window title; U+202E reverses text).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from outside (reasons, authors, names, messages) made safe for a terminal: every control character becomes
 * a visible escape (`\x1b`, `\n`, `\u202e`), so it can neither drive the terminal nor forge a line.
 * Every text renderer passes such text through this before printing it.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A fixed-width text table; every cell is escaped (escapeControl). */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? '' : escapeControl(String(c)))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
