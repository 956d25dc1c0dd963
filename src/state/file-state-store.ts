import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent } from '../domain/audit.ts';
import { StateError } from '../domain/errors.ts';
import { emptyState, type State } from '../domain/state.ts';
import type { StateStore } from './state-store.ts';

/**
 * The embedded default store: a directory with
 * - state.json, replaced atomically (write temp, fsync, rename) under a lock file, version-checked;
 * - audit.log, JSON lines appended with O_APPEND and fsync before append() resolves. A line torn by a crash is
 *   never followed on the same line (the next append starts a new line) and readers skip it.
 */
export class FileStateStore implements StateStore {
  readonly dir: string;
  private readonly statePath: string;
  private readonly auditPath: string;
  private readonly lockPath: string;
  private auditQueue: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.dir = dir;
    this.statePath = join(dir, 'state.json');
    this.auditPath = join(dir, 'audit.log');
    this.lockPath = join(dir, 'state.lock');
  }

  async load(): Promise<State> {
    let text: string;
    try {
      text = await readFile(this.statePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw e;
    }
    try {
      return { ...emptyState(), ...(JSON.parse(text) as State) };
    } catch {
      throw new StateError('STATE_CORRUPT', `${this.statePath} is not valid JSON; move it aside to start from an empty state`);
    }
  }

  async save(next: State, expectedVersion: number): Promise<boolean> {
    await mkdir(this.dir, { recursive: true });
    await this.lock();
    try {
      const cur = await this.load();
      if (cur.version !== expectedVersion) return false;
      const tmp = `${this.statePath}.${process.pid}.tmp`;
      const body = JSON.stringify({ ...next, version: expectedVersion + 1, updatedAt: Date.now() }, null, 1);
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.statePath);
      return true;
    } finally {
      await this.unlock();
    }
  }

  append(e: AuditEvent): Promise<void> {
    // serialise appends in-process so lines never interleave; across processes O_APPEND keeps each write whole
    const run = this.auditQueue.then(() => this.appendNow(e));
    this.auditQueue = run.catch(() => undefined);
    return run;
  }

  private async appendNow(e: AuditEvent): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const line = JSON.stringify(e) + '\n';
    const fd = openSync(this.auditPath, 'a+');
    try {
      const prefix = endsTorn(fd) ? '\n' : '';
      writeSync(fd, prefix + line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  async audit(since = 0): Promise<AuditEvent[]> {
    let text: string;
    try {
      text = await readFile(this.auditPath, 'utf8');
    } catch {
      return [];
    }
    const out: AuditEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as AuditEvent;
        if (e.at >= since) out.push(e);
      } catch {
        // a line torn by a crash mid-write: the event it began was never acknowledged
      }
    }
    return out;
  }

  private async lock(): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await writeFile(this.lockPath, String(process.pid), { flag: 'wx' });
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (this.lockIsStale()) await rm(this.lockPath, { force: true });
        else await new Promise((r) => setTimeout(r, Math.min(50, 2 + i)));
        if (i > 2000) throw new StateError('STATE_CONFLICT', `could not lock ${this.lockPath}`);
      }
    }
  }

  private lockIsStale(): boolean {
    try {
      const pid = Number(readFileSync(this.lockPath, 'utf8'));
      if (!pid) return false;
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  private async unlock(): Promise<void> {
    await rm(this.lockPath, { force: true });
  }
}

/** True when the log's last byte is not a newline (a write was torn by a crash). */
function endsTorn(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return false;
  const buf = Buffer.alloc(1);
  readSync(fd, buf, 0, 1, size - 1);
  return buf[0] !== 0x0a;
}
