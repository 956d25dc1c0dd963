/** What every benchmark gets from bench/run.ts, and what it hands back. */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR } from './procs.ts';

export interface BenchContext {
  quick: boolean;
  /** The sample site every mirror serves (digest-checked by flotilla). */
  contentDir: string;
  log(line: string): void;
}

export interface BenchOutput {
  name: string;
  /** Markdown: tables and notes, printed and written into bench/README.md. */
  markdown: string;
  /** Everything measured, written to bench/results/<name>.json. */
  data: unknown;
  /** One line per comparison, flotilla / peer, for the summary; `verdict` replaces the ahead/behind wording (a goal, not a peer). */
  ratios: { what: string; value: number | undefined; behind: boolean; verdict?: string }[];
}

export interface MachineInfo {
  nproc: number;
  model: string;
  memoryGiB: number;
  node: string;
  kernel: string;
}

export function machineInfo(): MachineInfo {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch { /* not Linux */ }
  let kernel = 'unknown';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch { /* not Linux */ }
  return { nproc: availableParallelism(), model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernel };
}

export const SITE_DIR = join(REPO_DIR, 'site');
