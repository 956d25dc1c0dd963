import { mkdirSync, readdirSync, readFileSync, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { normalizeName, type Change } from '../../domain/records.ts';
import { applyZoneChanges, assertZoneName, createZoneData, parseZoneData, ZoneChangeError, type ZoneCreateOptions, type ZoneData } from './zone-data.ts';
import { ZoneIndex } from './zone-index.ts';

/** Why a zone store operation failed: the zone is not there, the change is invalid, or another writer held the lock too long. */
export class ZoneStoreError extends Error {
  constructor(
    readonly reason: 'not-found' | 'invalid' | 'busy',
    message: string,
  ) {
    super(message);
  }
}

export interface ZoneStoreOptions {
  /** Longest time a query may see a zone another process rewrote, when fs.watch events do not arrive. Default 250 ms. */
  pollMs?: number;
  /** How long a writer waits for another process's lock before giving up (busy). Default 5 s. */
  lockTimeoutMs?: number;
}

interface Loaded {
  index: ZoneIndex;
  /** File identity when loaded: an atomic rename always makes a new inode, so (ino, mtime, size) changes on every write. */
  ino: number;
  mtimeMs: number;
  size: number;
}

const SUFFIX = '.json';
const STALE_LOCK_MS = 10_000;

/**
 * Zones as JSON files in one directory (`<dir>/<zone>.json`), written atomically (temp file + rename) under a
 * per-zone lock file so several processes may write. Readers keep an immutable in-memory index per zone:
 * - a write through this instance is visible to the next lookup at once;
 * - a write by another process (or another instance) is picked up on the next lookup after its fs.watch event,
 *   and at worst `pollMs` later (a cheap readdir + stat), so the query path never reads files otherwise.
 */
export class ZoneStore {
  readonly dir: string;
  private readonly pollMs: number;
  private readonly lockTimeoutMs: number;
  private readonly zones = new Map<string, Loaded>();
  private readonly dirty = new Set<string>();
  private lastScan = 0;
  private watcher: FSWatcher | undefined;
  private closed = false;
  /** Serialises writers inside this process; the lock file serialises processes. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(dir: string, opts: ZoneStoreOptions = {}) {
    this.dir = resolve(dir);
    this.pollMs = opts.pollMs ?? 250;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 5000;
    mkdirSync(this.dir, { recursive: true });
    this.scanSync();
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_event, filename) => {
        if (filename === null) this.lastScan = 0;
        else if (filename.endsWith(SUFFIX)) this.dirty.add(filename.slice(0, -SUFFIX.length));
      });
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      this.watcher = undefined; // polling alone still bounds staleness
    }
  }

  /** Names of the zones held (fresh). */
  zoneNames(): string[] {
    this.refresh();
    return [...this.zones.keys()].sort();
  }

  /** The index of `zone` (fresh), or undefined. Cheap: the query path. */
  zone(zone: string): ZoneIndex | undefined {
    this.refresh();
    return this.zones.get(normalizeName(zone))?.index;
  }

  /** The index of the closest enclosing zone of `qname` (lower-case, no trailing dot), or undefined. */
  zoneFor(qname: string): ZoneIndex | undefined {
    this.refresh();
    for (let n = qname; ; ) {
      const z = this.zones.get(n);
      if (z) return z.index;
      const dot = n.indexOf('.');
      if (dot < 0) return undefined;
      n = n.slice(dot + 1);
    }
  }

  /** The zone as it is on disk now (checks the file, for callers outside the query path), or undefined. */
  async read(zoneName: string): Promise<ZoneData | undefined> {
    const zone = normalizeName(zoneName);
    if (!validZoneName(zone)) return undefined;
    const st = await stat(this.file(zone)).catch(() => undefined);
    if (!st) {
      this.zones.delete(zone);
      return undefined;
    }
    const held = this.zones.get(zone);
    if (held && sameFile(held, st)) return held.index.data;
    const text = await readFile(this.file(zone), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    return this.install(zone, parseZoneData(text, zone), await stat(this.file(zone)).catch(() => st)).index.data;
  }

  /** Creates the zone (SOA + apex NS) unless it exists. Returns true when it was created. */
  async ensureZone(zoneName: string, opts: ZoneCreateOptions = {}): Promise<boolean> {
    const zone = normalizeName(zoneName);
    this.checkZoneName(zone);
    return this.exclusive(zone, async () => {
      if (await this.readFresh(zone)) return false;
      await this.writeAtomic(zone, createZoneData(zone, opts));
      return true;
    });
  }

  /** Applies a change set atomically (all or nothing) and bumps the serial. Returns the new zone. */
  async apply(zoneName: string, changes: readonly Change[]): Promise<ZoneData> {
    const zone = normalizeName(zoneName);
    this.checkZoneName(zone);
    return this.exclusive(zone, async () => {
      const current = await this.readFresh(zone);
      if (!current) throw new ZoneStoreError('not-found', `zone ${zone} does not exist in ${this.dir}`);
      let next: ZoneData;
      try {
        next = applyZoneChanges(current, changes);
      } catch (err) {
        if (err instanceof ZoneChangeError) throw new ZoneStoreError('invalid', err.message);
        throw err;
      }
      await this.writeAtomic(zone, next);
      return next;
    });
  }

  /** Stops watching. Idempotent. Also forgets this store in the shared registry. */
  close(): void {
    this.closed = true;
    this.stopWatching();
    if (shared.get(this.dir) === this) shared.delete(this.dir);
  }

  private file(zone: string): string {
    return join(this.dir, `${zone}${SUFFIX}`);
  }

  private checkZoneName(zone: string): void {
    try {
      assertZoneName(zone);
    } catch (err) {
      throw new ZoneStoreError('invalid', (err as Error).message);
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Brings the in-memory view up to date with what watch events (or the poll interval) say changed. */
  private refresh(): void {
    if (this.closed) return;
    if (Date.now() - this.lastScan >= this.pollMs) {
      this.scanSync();
      return;
    }
    if (this.dirty.size === 0) return;
    for (const zone of [...this.dirty]) this.reloadSync(zone);
  }

  private scanSync(): void {
    this.lastScan = Date.now();
    this.dirty.clear();
    let names: string[] = [];
    try {
      names = readdirSync(this.dir).filter((f) => f.endsWith(SUFFIX)).map((f) => f.slice(0, -SUFFIX.length));
    } catch {
      return; // directory gone: keep serving what we have
    }
    const present = new Set(names);
    for (const zone of this.zones.keys()) if (!present.has(zone)) this.zones.delete(zone);
    for (const zone of names) this.reloadSync(zone);
  }

  private reloadSync(zone: string): void {
    this.dirty.delete(zone);
    if (!validZoneName(zone)) return;
    const st = statSync(this.file(zone), { throwIfNoEntry: false });
    if (!st) {
      this.zones.delete(zone);
      return;
    }
    const held = this.zones.get(zone);
    if (held && sameFile(held, st)) return;
    try {
      this.install(zone, parseZoneData(readFileSync(this.file(zone), 'utf8'), zone), st);
    } catch {
      // A file that does not parse is never installed; the last good version keeps serving.
    }
  }

  private install(zone: string, data: ZoneData, st: Stats): Loaded {
    const loaded: Loaded = { index: new ZoneIndex(data), ino: st.ino, mtimeMs: st.mtimeMs, size: st.size };
    this.zones.set(zone, loaded);
    return loaded;
  }

  /** Reads the zone from disk (writers must not trust the cache: another process may have written). */
  private async readFresh(zone: string): Promise<ZoneData | undefined> {
    const text = await readFile(this.file(zone), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (text === undefined) return undefined;
    try {
      return parseZoneData(text, zone);
    } catch (err) {
      throw new ZoneStoreError('invalid', `zone file ${this.file(zone)} is unreadable: ${(err as Error).message}`);
    }
  }

  private async writeAtomic(zone: string, data: ZoneData): Promise<void> {
    const target = this.file(zone);
    const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(data, null, 1));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    // Our own write is visible to the next lookup at once, without waiting for the watch event.
    this.install(zone, data, await stat(target));
  }

  /** Runs `fn` holding this zone's in-process queue and its cross-process lock file. */
  private exclusive<T>(zone: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(zone) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(async () => {
      const release = await this.lock(zone);
      try {
        return await fn();
      } finally {
        await release();
      }
    });
    const tail = run.catch(() => undefined);
    this.queues.set(zone, tail);
    void tail.then(() => {
      if (this.queues.get(zone) === tail) this.queues.delete(zone);
    });
    return run;
  }

  private async lock(zone: string): Promise<() => Promise<void>> {
    const lockFile = `${this.file(zone)}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      try {
        const fh = await open(lockFile, 'wx');
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return () => unlink(lockFile).catch(() => undefined);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (await lockIsStale(lockFile)) {
        await unlink(lockFile).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new ZoneStoreError('busy', `zone ${zone} is locked by another writer (${lockFile})`);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 15));
    }
  }
}

/** A lock is stale when its holder is gone or it is older than any write could take. */
async function lockIsStale(lockFile: string): Promise<boolean> {
  const [st, text] = await Promise.all([stat(lockFile).catch(() => undefined), readFile(lockFile, 'utf8').catch(() => '')]);
  if (!st) return false;
  if (Date.now() - st.mtimeMs > STALE_LOCK_MS) return true;
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function sameFile(held: Loaded, st: Stats): boolean {
  return held.ino === st.ino && held.mtimeMs === st.mtimeMs && held.size === st.size;
}

function validZoneName(zone: string): boolean {
  try {
    assertZoneName(zone);
    return true;
  } catch {
    return false;
  }
}

const shared = new Map<string, ZoneStore>();

/**
 * The process-wide store of a directory: the embedded server and the local driver of one process share it,
 * so a change the driver applies is in the server's index before applyChanges returns.
 */
export function openZoneStore(dir: string, opts?: ZoneStoreOptions): ZoneStore {
  const key = resolve(dir);
  let store = shared.get(key);
  if (!store) shared.set(key, (store = new ZoneStore(key, opts)));
  return store;
}
