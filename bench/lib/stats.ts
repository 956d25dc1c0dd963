/** Summaries and table rendering shared by the benchmarks. Pure. */

export interface Summary {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
}

/** Nearest-rank quantile of an ascending array (q in 0..1). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return { n: s.length, min: s[0] ?? NaN, median: median(s), p95: quantile(s, 0.95), max: s[s.length - 1] ?? NaN };
}

/** `1234` → `1234`, `1.5` → `1.5`, NaN → `–`. */
export function num(v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return v.toFixed(digits);
}

/** flotilla / peer, as `0.25×`; `–` when either is missing or the peer is 0. */
export function ratio(flotilla: number | undefined, peer: number | undefined, digits = 2): string {
  if (flotilla === undefined || peer === undefined || !Number.isFinite(flotilla) || !Number.isFinite(peer) || peer === 0) return '–';
  return `${(flotilla / peer).toFixed(digits)}×`;
}

export function ratioValue(flotilla: number | undefined, peer: number | undefined): number | undefined {
  if (flotilla === undefined || peer === undefined || !Number.isFinite(flotilla) || !Number.isFinite(peer) || peer === 0) return undefined;
  return flotilla / peer;
}

/** A GitHub-flavoured markdown table. */
export function mdTable(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...cells.map(line)].join('\n');
}

/** Least-squares slope of log(y) on log(x): 1 = linear growth, 2 = quadratic. */
export function growthExponent(xs: readonly number[], ys: readonly number[]): number {
  const pts = xs.map((x, i) => [Math.log(x), Math.log(ys[i])] as const).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const n = pts.length;
  if (n < 2) return NaN;
  const mx = pts.reduce((s, p) => s + p[0], 0) / n;
  const my = pts.reduce((s, p) => s + p[1], 0) / n;
  const num = pts.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = pts.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den === 0 ? NaN : num / den;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
