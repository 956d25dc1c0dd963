import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent } from '../domain/audit.ts';
import { StateError } from '../domain/errors.ts';
import { emptyState, type State } from '../domain/state.ts';
import { redactDeep } from '../domain/redact-url.ts';
import { AuditLogFile, type AuditLogOptions } from './audit-log-file.ts';
import { withFileLock } from './file-lock.ts';
import { StateCorruptError } from './state-corrupt-error.ts';
import { checkState, parseState } from './state-schema.ts';
import { AUDIT_LIMIT, type AuditPage, type AuditQuery, type StateStore } from './state-store.ts';

/**
 * The embedded default store: a directory with
 * - state.json, replaced atomically (write temp, fsync, rename) under a lock file (state.lock), version-checked,
 *   parsed with the state schema on every read (a save reads it first, so a state.json that is not a state is
 *   never overwritten);
 * - the audit log, JSON lines in size-bounded segments (see AuditLogFile).
 * File system faults (permission denied, disk full, read-only) are StateError STATE_UNAVAILABLE naming the path.
 */
export class FileStateStore implements StateStore {
  readonly dir: string;
  readonly statePath: string;
  private readonly lockPath: string;
  private readonly log: AuditLogFile;

  constructor(dir: string, opts: AuditLogOptions = {}) {
    this.dir = dir;
    this.statePath = join(dir, 'state.json');
    this.lockPath = join(dir, 'state.lock');
    this.log = new AuditLogFile(dir, opts);
  }

  async load(): Promise<State> {
    let text: string;
    try {
      text = await readFile(this.statePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw fault(e, `cannot read ${this.statePath}`);
    }
    const r = parseState(text);
    if (!r.ok) throw new StateCorruptError(this.statePath, r.problems, 'fix it, or move it aside to start from an empty state');
    return r.state;
  }

  async save(next: State, expectedVersion: number): Promise<boolean> {
    const body = { ...next, version: expectedVersion + 1, updatedAt: Date.now() };
    const text = JSON.stringify(body, null, 1);
    const check = checkState(JSON.parse(text));
    if (!check.ok) throw new StateError('STATE_CORRUPT', `refusing to save a state that would not read back (${check.problems.join('; ')})`);
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (e) {
      throw fault(e, `cannot create ${this.dir}`);
    }
    const locked = withFileLock(this.lockPath, async () => {
      const cur = await this.load();
      if (cur.version !== expectedVersion) return false;
      const tmp = `${this.statePath}.${process.pid}.tmp`;
      try {
        const fh = await open(tmp, 'w');
        try {
          await fh.writeFile(text);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, this.statePath);
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        throw fault(e, `cannot write ${this.statePath}`);
      }
      return true;
    });
    try {
      return await locked;
    } catch (e) {
      throw e instanceof StateError ? e : fault(e, `cannot lock ${this.lockPath}`);
    }
  }

  async append(e: AuditEvent): Promise<void> {
    try {
      await this.log.append(redactDeep(e));
    } catch (err) {
      throw fault(err, `cannot append to the audit log in ${this.dir}`);
    }
  }

  async audit(since = 0, limit = AUDIT_LIMIT): Promise<AuditEvent[]> {
    try {
      return await this.log.recent(since, limit);
    } catch (err) {
      throw fault(err, `cannot read the audit log in ${this.dir}`);
    }
  }

  async auditPage(q: AuditQuery): Promise<AuditPage> {
    try {
      return await this.log.page(q);
    } catch (err) {
      if (err instanceof TypeError) throw new StateError('STATE_CORRUPT', err.message, { exitCode: 2 });
      throw fault(err, `cannot read the audit log in ${this.dir}`);
    }
  }
}

/** A file system error as STATE_UNAVAILABLE, with the errno code (EACCES, ENOSPC, EROFS, ...) in the message. */
function fault(e: unknown, what: string): StateError {
  const err = e as NodeJS.ErrnoException;
  return new StateError('STATE_UNAVAILABLE', `${what}: ${err.code ? `${err.code} ` : ''}${err.message?.replace(/^[A-Z]+: /, '') ?? String(e)}`, { cause: e });
}
