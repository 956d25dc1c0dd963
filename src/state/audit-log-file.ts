import { mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent } from '../domain/audit.ts';
import { parseAuditEvent } from './state-schema.ts';
import type { AuditPage, AuditQuery } from './state-store.ts';

export interface AuditLogOptions {
  /** A segment that reaches this size is closed and the next one started. Default 4 MiB. */
  maxSegmentBytes?: number;
  /** Segments kept; the oldest beyond this are deleted. Default 64 (so at most about 256 MiB by default). */
  maxSegments?: number;
  /** Most recent events kept in memory for audit(). Default 1000. */
  tailSize?: number;
}

/**
 * The file audit log: JSON lines in numbered segments `audit.log` (the first, the name older versions used),
 * `audit.000001.log`, `audit.000002.log`, ... Appends go to the highest-numbered segment, with O_APPEND, and are
 * fsynced (and the directory too when the segment is new) before append() resolves.
 * - Rotation only ever CREATES the next segment (O_EXCL): nothing is renamed or rewritten, so a crash at any point
 *   of a rotation leaves every acknowledged line where it was; a writer that still appends to the previous segment
 *   after a rotation (another process) writes a line that is read like any other.
 * - A line torn by a crash is never continued (the next append starts a new line) and readers skip it; so are lines
 *   that are not events (edited by hand, out-of-range times): readers count them as `skipped`.
 * - Reads never parse the whole log: audit() answers from an in-memory tail of the last `tailSize` events, brought up
 *   to date by reading only the bytes appended since (by any process); page() walks backwards from the newest line
 *   and stops after `limit` events.
 */
export class AuditLogFile {
  private readonly maxSegmentBytes: number;
  private readonly maxSegments: number;
  private readonly tailSize: number;
  private activeSeq: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private tail: { seq: number; offset: number; events: AuditEvent[]; complete: boolean } | undefined;
  private tailRefresh: Promise<void> | undefined;

  constructor(readonly dir: string, opts: AuditLogOptions = {}) {
    this.maxSegmentBytes = Math.max(1, opts.maxSegmentBytes ?? 4 * 1024 * 1024);
    this.maxSegments = Math.max(2, opts.maxSegments ?? 64);
    this.tailSize = Math.max(1, opts.tailSize ?? 1000);
  }

  /** The file of segment `seq`. */
  segmentPath(seq: number): string {
    return join(this.dir, seq === 0 ? 'audit.log' : `audit.${String(seq).padStart(6, '0')}.log`);
  }

  /** Segment numbers present, oldest first. */
  async segments(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: number[] = [];
    for (const n of names) {
      if (n === 'audit.log') out.push(0);
      const m = /^audit\.(\d{6,})\.log$/.exec(n);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  append(e: AuditEvent): Promise<void> {
    // one append at a time in this process, so lines never interleave; across processes O_APPEND keeps each write whole
    const run = this.queue.then(() => this.appendNow(e));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async appendNow(e: AuditEvent): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (this.activeSeq === undefined) this.activeSeq = (await this.segments()).at(-1) ?? 0;
    // another process may have started newer segments
    while (await exists(this.segmentPath(this.activeSeq + 1))) this.activeSeq++;
    const seq = this.activeSeq;
    const line = Buffer.from(JSON.stringify(e) + '\n');
    const fh = await open(this.segmentPath(seq), 'a+');
    let size: number;
    try {
      size = (await fh.stat()).size;
      const torn = size > 0 && (await lastByte(fh, size)) !== 0x0a;
      await fh.write(torn ? Buffer.concat([Buffer.from('\n'), line]) : line);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // a new file is durable only once its directory entry is
    if (size === 0) await syncDir(this.dir);
    if (size + line.length >= this.maxSegmentBytes) await this.rotate(seq);
  }

  /** Starts segment seq+1 (if no other process did) and deletes segments beyond maxSegments, oldest first. */
  private async rotate(seq: number): Promise<void> {
    try {
      await (await open(this.segmentPath(seq + 1), 'wx')).close();
      await syncDir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    this.activeSeq = seq + 1;
    const segs = await this.segments();
    for (const old of segs.slice(0, Math.max(0, segs.length - this.maxSegments))) await unlink(this.segmentPath(old)).catch(() => undefined);
  }

  /** Events at or after `since`, oldest first: the newest `limit` of them. Served from memory when it can be. */
  async recent(since: number, limit: number): Promise<AuditEvent[]> {
    await this.refreshTail();
    const t = this.tail!;
    const match = t.events.filter((e) => e.at >= since);
    if (match.length >= limit || t.complete || t.events.some((e) => e.at < since)) return match.slice(-limit);
    return (await this.page({ since, limit })).events;
  }

  private refreshTail(): Promise<void> {
    // one refresh at a time; callers arriving meanwhile share it
    this.tailRefresh ??= (this.tail ? this.readNew(this.tail) : this.buildTail()).finally(() => { this.tailRefresh = undefined; });
    return this.tailRefresh;
  }

  private async buildTail(): Promise<void> {
    const segs = await this.segments();
    const seq = segs.at(-1) ?? 0;
    const offset = await completeEnd(this.segmentPath(seq));
    const events: AuditEvent[] = [];
    let complete = true;
    outer: for (const s of [...segs].reverse()) {
      for await (const { line } of linesBackward(this.segmentPath(s), s === seq ? offset : undefined)) {
        const ev = parseAuditEvent(line);
        if (!ev) continue;
        if (events.length >= this.tailSize) {
          complete = false;
          break outer;
        }
        events.push(ev);
      }
    }
    this.tail = { seq, offset, events: events.reverse(), complete };
  }

  /** Reads what was appended since the tail was last brought up to date, following rotations. */
  private async readNew(t: NonNullable<AuditLogFile['tail']>): Promise<void> {
    for (;;) {
      let fh: FileHandle;
      try {
        fh = await open(this.segmentPath(t.seq), 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        if (t.seq === 0 && t.offset === 0 && !(await exists(this.segmentPath(1)))) return; // no log yet
        this.tail = undefined; // deleted under us (retention): start over
        return this.buildTail();
      }
      try {
        const size = (await fh.stat()).size;
        if (size < t.offset) {
          this.tail = undefined; // shrank: not something flotilla does; start over
          await fh.close();
          return this.buildTail();
        }
        if (size > t.offset) {
          const buf = Buffer.alloc(size - t.offset);
          await fh.read(buf, 0, buf.length, t.offset);
          const end = buf.lastIndexOf(0x0a) + 1;
          for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
            const ev = line ? parseAuditEvent(line) : undefined;
            if (ev) t.events.push(ev);
          }
          t.offset += end;
          if (t.events.length > this.tailSize) {
            t.events.splice(0, t.events.length - this.tailSize);
            t.complete = false;
          }
        }
      } finally {
        await fh.close().catch(() => undefined);
      }
      if (!(await exists(this.segmentPath(t.seq + 1)))) return;
      t.seq++;
      t.offset = 0;
    }
  }

  /**
   * One page of the log, walking back from the newest line (or from the `before` cursor of the previous page): the
   * newest `limit` events at or after `since`, oldest first. The walk stops at the end of the first segment holding an
   * event older than `since` (segments are written in time order).
   */
  async page(q: AuditQuery): Promise<AuditPage> {
    const limit = Math.max(1, q.limit ?? 100);
    const segs = await this.segments();
    const start = q.before === undefined ? undefined : parseCursor(q.before);
    const events: AuditEvent[] = [];
    let skipped = 0;
    let last: string | undefined;
    for (const s of [...segs].reverse()) {
      if (start && s > start.seq) continue;
      let olderSeen = false;
      try {
        for await (const { line, offset } of linesBackward(this.segmentPath(s), start && s === start.seq ? start.offset : undefined)) {
          const ev = parseAuditEvent(line);
          if (!ev) {
            skipped++;
            continue;
          }
          if (q.since !== undefined && ev.at < q.since) {
            olderSeen = true;
            continue;
          }
          if (events.length >= limit) return { events: events.reverse(), skipped, next: last };
          events.push(ev);
          last = `${s}:${offset}`;
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // deleted by retention meanwhile
      }
      if (olderSeen) break;
    }
    return { events: events.reverse(), skipped };
  }
}

function parseCursor(c: string): { seq: number; offset: number } {
  const m = /^(\d{1,9}):(\d{1,15})$/.exec(c);
  if (!m) throw new TypeError(`not an audit cursor: ${JSON.stringify(c)}`);
  return { seq: Number(m[1]), offset: Number(m[2]) };
}

const CHUNK = 64 * 1024;

/**
 * The complete lines of a file (those ended by a newline) before `end` (default: its size), last first, each with
 * the offset where it starts. Bytes after the last newline (a write in progress, or torn by a crash) are not a line.
 */
async function* linesBackward(path: string, end?: number): AsyncGenerator<{ line: string; offset: number }> {
  const fh = await open(path, 'r');
  try {
    let pos = end ?? (await fh.stat()).size;
    let carry = Buffer.alloc(0);
    let trailing = true;
    while (pos > 0) {
      const n = Math.min(CHUNK, pos);
      pos -= n;
      const chunk = Buffer.alloc(n);
      await fh.read(chunk, 0, n, pos);
      const data = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk;
      let stop = data.length;
      for (let i = data.length - 1; i >= 0; i--) {
        if (data[i] !== 0x0a) continue;
        if (trailing) trailing = false;
        else if (stop > i + 1) yield { line: data.subarray(i + 1, stop).toString('utf8'), offset: pos + i + 1 };
        stop = i;
      }
      carry = Buffer.from(data.subarray(0, stop));
    }
    if (!trailing && carry.length > 0) yield { line: carry.toString('utf8'), offset: 0 };
  } finally {
    await fh.close();
  }
}

/** The offset just after the last newline of a file (0 when it has none or does not exist). */
async function completeEnd(path: string): Promise<number> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  try {
    let pos = (await fh.stat()).size;
    while (pos > 0) {
      const n = Math.min(CHUNK, pos);
      pos -= n;
      const buf = Buffer.alloc(n);
      await fh.read(buf, 0, n, pos);
      const i = buf.lastIndexOf(0x0a);
      if (i >= 0) return pos + i + 1;
    }
    return 0;
  } finally {
    await fh.close();
  }
}

async function lastByte(fh: FileHandle, size: number): Promise<number> {
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, size - 1);
  return b[0];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
