/**
 * Every process the bench starts is tracked here by pid, so it stops even on Ctrl-C, SIGTERM or an exception:
 * the 'exit' hook SIGKILLs whatever is left (SIGKILL also ends a SIGSTOPped mirror), the signal hooks stop
 * everything and exit. Temp dirs registered here are removed the same way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(BENCH_DIR, '..');

const live = new Map<number, string>();
const tempDirs = new Set<string>();
let installed = false;

/** Registers a pid (started by us) to be killed when the bench ends, however it ends. */
export function track(pid: number | undefined, label: string): void {
  if (pid) live.set(pid, label);
}

export function untrack(pid: number | undefined): void {
  if (pid) live.delete(pid);
}

export function trackTempDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

function signalAll(signal: NodeJS.Signals): void {
  for (const pid of live.keys()) {
    try {
      if (signal !== 'SIGKILL') process.kill(pid, 'SIGCONT'); // a stopped process cannot act on TERM
      process.kill(pid, signal);
    } catch {
      live.delete(pid); // already gone
    }
  }
}

function removeTempDirs(): void {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Installs the exit/signal/exception hooks once. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    signalAll('SIGKILL');
    removeTempDirs();
  });
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${sig}, stopping ${live.size} process(es) it started\n`);
    signalAll('SIGTERM');
    setTimeout(() => process.exit(130), 1500);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => onSignal(sig));
  const onFatal = (err: unknown) => {
    process.stderr.write(`bench: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1); // the 'exit' hook kills the children
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
}

export interface Daemon {
  pid: number;
  child: ChildProcess;
  /** Tail of stdout+stderr, for error messages. */
  log(): string;
  exited(): boolean;
  /** SIGCONT, SIGTERM, SIGKILL after 3 s; resolves once it exited. */
  stop(): Promise<void>;
}

/** Spawns a server in the foreground (no shell) and tracks it. */
export function startDaemon(cmd: string, args: string[], opts: { label: string; cwd?: string; env?: NodeJS.ProcessEnv }): Daemon {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  child.on('error', (e) => collect(Buffer.from(`spawn failed: ${e.message}\n`)));
  track(child.pid, opts.label);
  const gone = new Promise<void>((ok) => child.once('exit', () => { untrack(child.pid); ok(); }));
  const exited = () => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
  return {
    pid: child.pid ?? -1,
    child,
    log: () => out,
    exited,
    async stop() {
      if (exited()) return;
      try { process.kill(child.pid!, 'SIGCONT'); } catch { /* gone */ }
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    },
  };
}

export interface NodeChild<E = unknown> {
  pid: number;
  /** Sends a request and waits for the child's answer (rejects with the child's error). */
  request<T = unknown>(type: string, body?: object, timeoutMs?: number): Promise<T>;
  /** Unsolicited events from the child. */
  onEvent(fn: (e: E) => void): void;
  ready: Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Runs `bench/lib/<entry>` in its own node process (`node --import tsx`), talking over IPC: the child asks for
 * its config ({type:'need-config'}), then sends {type:'ready', ...}, answers {id, ok, result|error} to requests, and {event} messages.
 * With `netns`, the child runs inside that network namespace (one the bench created). With `compiled`, it runs the
 * shipped JavaScript in dist/ as the daemon does, in plain node without tsx (see compiledEntry): what its memory is.
 */
export function startNodeChild<E = unknown>(
  entry: string, config: object, label: string, opts: { netns?: string; compiled?: boolean; nodeFlags?: string[] } = {},
): NodeChild<E> {
  const flags = opts.nodeFlags ?? [];
  const argv = opts.compiled ? [process.execPath, ...flags, compiledEntry(entry)] : [process.execPath, ...flags, '--import', 'tsx', join(BENCH_DIR, 'lib', entry)];
  // `ip netns exec` execs the command: the pid tracked is node's own
  const [cmd, ...args] = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : argv;
  const child = spawn(cmd, args, {
    cwd: REPO_DIR,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  track(child.pid, label);
  const gone = new Promise<void>((ok) => child.once('exit', () => { untrack(child.pid); ok(); }));
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  const listeners: ((e: E) => void)[] = [];
  let nextId = 1;
  let readyOk!: (v: unknown) => void;
  let readyFail!: (e: Error) => void;
  const ready = new Promise<unknown>((ok, fail) => { readyOk = ok; readyFail = fail; });
  ready.catch(() => undefined);
  child.on('message', (m: { type?: string; id?: number; ok?: boolean; result?: unknown; error?: string; event?: E }) => {
    // the config goes over IPC when the child asks (thousands of endpoints do not fit in one argv string: E2BIG)
    if (m.type === 'need-config') child.send({ type: 'config', config });
    else if (m.type === 'ready') readyOk(m);
    else if (m.type === 'failed') readyFail(new Error(`${label}: ${m.error}`));
    else if (m.id !== undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p?.ok(m.result);
      else p?.fail(new Error(`${label}: ${m.error}`));
    } else if (m.event !== undefined) for (const l of listeners) l(m.event);
  });
  void gone.then(() => {
    readyFail(new Error(`${label} exited (code ${child.exitCode}, signal ${child.signalCode})`));
    for (const p of pending.values()) p.fail(new Error(`${label} exited`));
    pending.clear();
  });
  return {
    pid: child.pid ?? -1,
    ready,
    onEvent: (fn) => void listeners.push(fn),
    request<T>(type: string, body: object = {}, timeoutMs = 60_000): Promise<T> {
      const id = nextId++;
      return new Promise<T>((ok, fail) => {
        const t = setTimeout(() => { pending.delete(id); fail(new Error(`${label}: no answer to ${type} within ${timeoutMs} ms`)); }, timeoutMs);
        pending.set(id, { ok: (v) => { clearTimeout(t); ok(v as T); }, fail: (e) => { clearTimeout(t); fail(e); } });
        child.send({ id, type, ...body });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try { child.send({ id: 0, type: 'stop' }); } catch { /* channel closed */ }
      const t1 = setTimeout(() => child.kill('SIGTERM'), 5000);
      const t2 = setTimeout(() => child.kill('SIGKILL'), 8000);
      await gone;
      clearTimeout(t1);
      clearTimeout(t2);
    },
  };
}

/** Newest modification time under dir (files and folders: a deleted file changes its folder). */
function newestMtime(dir: string): number {
  let newest = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** dist/ as `npm run build` leaves it, rebuilt first when missing or older than src/ (never a stale measurement). */
function ensureDist(): void {
  const main = join(REPO_DIR, 'dist', 'cli', 'main.js');
  if (existsSync(main) && newestMtime(join(REPO_DIR, 'src')) <= statSync(main).mtimeMs) return;
  process.stderr.write('bench: dist/ is missing or older than src/: npm run build\n');
  const r = spawnSync(process.execPath, [join(REPO_DIR, 'bin', 'build-dist.mjs')], { cwd: REPO_DIR, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(main)) throw new Error('bench: npm run build failed; the compiled mode needs dist/');
}

/**
 * `bench/lib/<entry>` as one plain-JavaScript file (esbuild, which tsx already brings) whose imports of src/ point at
 * the compiled dist/ modules: the child then loads exactly the code the shipped daemon runs, and no TypeScript
 * loader (tsx's loader thread alone adds megabytes of RSS) is in the process being measured.
 */
function compiledEntry(entry: string): string {
  ensureDist();
  const out = join(trackTempDir(mkdtempSync(join(tmpdir(), 'flotilla-bench-entry-'))), entry.replace(/\.ts$/, '.mjs'));
  const srcDir = join(REPO_DIR, 'src');
  // esbuild's buildSync takes no plugins: the build runs to completion in a short node child instead
  const build = `
    import * as esbuild from 'esbuild';
    import path from 'node:path';
    const [entry, out, srcDir, distDir] = process.argv.slice(1);
    await esbuild.build({
      entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20',
      packages: 'external', logLevel: 'error',
      plugins: [{ name: 'src-to-dist', setup(b) {
        b.onResolve({ filter: /\\.ts$/ }, (a) => {
          const abs = path.resolve(a.resolveDir, a.path);
          if (!abs.startsWith(srcDir + path.sep)) return undefined; // bench code: bundled
          return { path: path.join(distDir, path.relative(srcDir, abs)).replace(/\\.ts$/, '.js'), external: true };
        });
      } }],
    });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', build, join(BENCH_DIR, 'lib', entry), out, srcDir, join(REPO_DIR, 'dist')], { cwd: REPO_DIR, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench: could not bundle ${entry} for the compiled mode: ${r.stderr}`);
  return out;
}

/**
 * Child side of startNodeChild: waits for the config message, runs `setup`, then serves requests with `handlers`.
 * A 'stop' request (or the parent going away) runs `shutdown` and exits.
 */
export async function childMain<C>(
  setup: (config: C, emit: (event: unknown) => void) => Promise<{ ready: object; handlers: Record<string, (body: Record<string, unknown>) => Promise<unknown>>; shutdown: () => Promise<void> }>,
): Promise<void> {
  const config = await new Promise<C>((resolve) => {
    const first = (m: { type?: string; config?: C }) => {
      if (m.type !== 'config') return;
      process.off('message', first);
      resolve(m.config as C);
    };
    process.on('message', first);
    process.once('disconnect', () => process.exit(0));
    process.send!({ type: 'need-config' });
  });
  const send = (m: object) => { if (process.connected) process.send!(m); };
  try {
    const { ready, handlers, shutdown } = await setup(config, (event) => send({ event }));
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await shutdown().catch(() => undefined);
      process.exit(0);
    };
    process.on('disconnect', () => void stop()); // never outlive the bench
    process.on('SIGTERM', () => void stop());
    process.on('SIGINT', () => void stop());
    process.on('message', async (m: { id: number; type: string } & Record<string, unknown>) => {
      if (m.type === 'stop') return void stop();
      const h = handlers[m.type];
      try {
        if (!h) throw new Error(`unknown request ${m.type}`);
        send({ id: m.id, ok: true, result: await h(m) });
      } catch (e) {
        send({ id: m.id, ok: false, error: (e as Error).message });
      }
    });
    send({ type: 'ready', ...ready });
  } catch (e) {
    if (process.connected) process.send!({ type: 'failed', error: (e as Error).stack ?? String(e) }, () => process.exit(1));
    else process.exit(1);
  }
}
