/**
 * The safety net for every process a test spawns: register it with `track()` (or spawn it with `spawnTracked()`)
 * and it cannot outlive its test file, whatever the outcome of the tests:
 * - a root-level after() hook of node:test stops (TERM, then KILL) whatever is still running once the file's
 *   tests are done: a leaked child would otherwise hold its pipes open and keep the file, and `npm test`, alive;
 * - an 'exit' handler SIGKILLs what is left if the file process ends another way.
 * Processes are stopped by pid, one by one; nothing is killed by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';

const live = new Set<ChildProcess>();

after(async () => {
  const leaked = [...live];
  if (leaked.length > 0) process.stderr.write(`# stopping ${leaked.length} process(es) a test left running: ${leaked.map((c) => `${c.spawnfile} (pid ${c.pid})`).join(', ')}\n`);
  await Promise.all(leaked.map((c) => stopChild(c)));
});

process.on('exit', () => {
  for (const c of live) if (running(c)) c.kill('SIGKILL');
});

/** Registers `child` so it is stopped when the test file ends. Returns it. */
export function track<T extends ChildProcess>(child: T): T {
  if (!running(child)) return child;
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** `spawn` (same signature and types), tracked. */
export const spawnTracked = ((...args: unknown[]) => track((spawn as (...a: unknown[]) => ChildProcess)(...args))) as typeof spawn;

/** True while the process has neither exited nor failed to start. */
export function running(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Stops `child` by pid: `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves once it has exited.
 * Safe to call on a process that already exited or never started.
 */
export async function stopChild(child: ChildProcess, opts: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT'); // a test may have stopped it (SIGSTOP); a stopped process would hold the TERM
  child.kill(opts.signal ?? 'SIGTERM');
  const t = setTimeout(() => { if (running(child)) child.kill('SIGKILL'); }, opts.graceMs ?? 3000);
  await exited;
  clearTimeout(t);
}

/** Processes still registered (for the tests of this module). */
export function trackedCount(): number {
  return live.size;
}
