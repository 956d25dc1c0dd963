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

/** A fixed-width text table. */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
