import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StateError } from '../../src/domain/errors.ts';
import { emptyState } from '../../src/domain/state.ts';
import { withFileLock } from '../../src/state/file-lock.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { StateCorruptError } from '../../src/state/state-corrupt-error.ts';
import { updateState } from '../../src/state/state-store.ts';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { fdArg, parseStrace } from '../support/syscall-trace.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'flotilla-state-'));

describe('FileStateStore', () => {
  it('starts empty and saves with a version check', async () => {
    const s = new FileStateStore(tmp());
    const st = await s.load();
    assert.equal(st.version, 0);
    assert.equal(await s.save({ ...st, lastGood: ['a'] }, 0), true);
    assert.equal(await s.save({ ...st, lastGood: ['b'] }, 0), false, 'stale version must be refused');
    const again = await s.load();
    assert.equal(again.version, 1);
    assert.deepEqual(again.lastGood, ['a']);
  });

  it('concurrent updaters in two stores on one directory lose no update', async () => {
    const dir = tmp();
    const a = new FileStateStore(dir);
    const b = new FileStateStore(dir);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => updateState(i % 2 ? a : b, (st) => { st.lastGood.push(`m${i}`); })),
    );
    const st = await a.load();
    assert.equal(st.lastGood.length, 40);
    assert.equal(st.version, 40);
  });

  it('appends audit events durably, in order, and skips a torn line without losing later ones', async () => {
    const dir = tmp();
    const s = new FileStateStore(dir);
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.append({ at: 1000 + i, kind: 'decision', message: `e${i}` })));
    appendFileSync(join(dir, 'audit.log'), '{"at":2000,"kind":"apply","mess'); // a crash mid-write
    await s.append({ at: 3000, kind: 'apply', message: 'after crash' });
    const events = await s.audit();
    assert.equal(events.length, 51);
    assert.deepEqual(events.slice(0, 50).map((e) => e.message), Array.from({ length: 50 }, (_, i) => `e${i}`));
    assert.equal(events[50].message, 'after crash');
    assert.equal((await s.audit(2500)).length, 1);
  });

  /**
   * Durability, tested for real: a SIGKILLed process keeps its writes in the page cache, so killing the writer
   * cannot show a missing fsync. Instead the writer runs under strace (Debian's, installed when missing) and the
   * trace must show, for every entry the writer acknowledged, its line written to audit.log and then an fsync of
   * audit.log that returned before the acknowledgement was written. The kill then checks crash consistency: every
   * acknowledged entry is in the log, a torn last line is skipped, and the log stays appendable.
   * (Not covered: fsync of the directory after audit.log is first created.)
   */
  it('every acknowledged append is fsynced before append() resolves (strace); a SIGKILLed writer loses none', async () => {
    ensurePackages({ strace: 'strace' });
    const dir = tmp();
    const traceFile = join(tmp(), 'trace');
    const script = `
      import { FileStateStore } from ${JSON.stringify(join(import.meta.dirname, '../../src/state/file-state-store.ts'))};
      const s = new FileStateStore(${JSON.stringify(dir)});
      process.stdout.write('pid ' + process.pid + '\\n');
      for (let i = 0; ; i++) { await s.append({ at: Date.now(), kind: 'apply', message: 'x'.repeat(i % 300), data: { i } }); process.stdout.write(i + '\\n'); }
    `;
    const child = spawnTracked('strace', ['-f', '-qq', '-o', traceFile, '-s', '4096', '-e', 'trace=openat,open,creat,close,write,pwrite64,writev,fsync,fdatasync',
      process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d));
      child.stderr!.on('data', (d: Buffer) => (err += d));
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const acked = () => Math.max(-1, ...out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number));
      const deadline = Date.now() + 60_000;
      while (acked() < 200) {
        if (child.exitCode !== null) assert.fail(`the writer under strace exited (${child.exitCode}) after ${acked() + 1} entries:\n${err}`);
        if (Date.now() > deadline) assert.fail(`the writer acknowledged only ${acked() + 1} entries in 60 s:\n${err}`);
        // wake on the next output (or each second, to notice an exit or the deadline)
        await new Promise<void>((r) => {
          const t = setTimeout(r, 1000);
          child.stdout!.once('data', () => { clearTimeout(t); r(); });
        });
      }
      const writerPid = Number(/^pid (\d+)$/m.exec(out)![1]);
      process.kill(writerPid, 'SIGKILL');
      await exited;
      const lastAcked = acked();

      // 1. durability: in the trace, each acknowledgement comes after an fsync of audit.log that covers its line
      const calls = parseStrace(readFileSync(traceFile, 'utf8'));
      const auditFds = new Set<number>();
      const written = new Map<number, number>(); // entry → line where its write returned
      const syncedUpTo: { start: number; end: number }[] = [];
      const ackedInTrace: number[] = [];
      for (const c of calls) {
        if (/^(openat|open|creat)$/.test(c.name) && c.args.includes('/audit.log"') && Number(c.result) >= 0) auditFds.add(Number(c.result));
        else if (c.name === 'close') auditFds.delete(fdArg(c));
        else if (/^(write|pwrite64|writev)$/.test(c.name) && auditFds.has(fdArg(c))) for (const m of c.args.matchAll(/\\"i\\":(\d+)/g)) written.set(Number(m[1]), c.end);
        else if (/^f(data)?sync$/.test(c.name) && auditFds.has(fdArg(c)) && c.result.startsWith('0')) syncedUpTo.push({ start: c.start, end: c.end });
        else if (/^(write|writev)$/.test(c.name) && fdArg(c) === 1) {
          for (const m of c.args.matchAll(/"(\d+)\\n"/g)) {
            const i = Number(m[1]);
            ackedInTrace.push(i);
            const w = written.get(i);
            assert.ok(w !== undefined, `entry ${i} acknowledged but never written to audit.log`);
            assert.ok(syncedUpTo.some((f) => f.start > w && f.end < c.start), `entry ${i} acknowledged before an fsync of audit.log covered it`);
          }
        }
      }
      assert.ok(ackedInTrace.length > 200 && ackedInTrace.at(-1) === lastAcked, `the trace shows ${ackedInTrace.length} acknowledgements, the writer printed up to ${lastAcked}`);

      // 2. crash consistency after SIGKILL
      const events = await new FileStateStore(dir).audit();
      const seen = new Set(events.map((e) => (e.data as { i: number }).i));
      for (let i = 0; i <= lastAcked; i++) assert.ok(seen.has(i), `acknowledged entry ${i} lost`);
      await new FileStateStore(dir).append({ at: Date.now(), kind: 'daemon', message: 'restarted' });
      assert.equal((await new FileStateStore(dir).audit()).at(-1)?.message, 'restarted');
      assert.ok(readFileSync(join(dir, 'audit.log'), 'utf8').endsWith('\n'));
    } finally {
      await stopChild(child, { signal: 'SIGKILL' });
    }
  });
});

describe('FileStateStore: a state.json that is not a state', () => {
  const shapes: [string, string, RegExp][] = [
    ['null', 'null', /expected object/],
    ['an array', '[]', /expected object/],
    ['a number', '42', /expected object/],
    ['a string version', '{"version":"3","health":{}}', /version: .*expected number/],
    ['a health entry of the wrong shape', '{"version":3,"health":{"m1":{"state":"sideways","successStreak":0,"failureStreak":0,"recentFlips":[]}}}', /health\.m1\.state/],
    ['overrides that are not a list', '{"version":3,"overrides":{"id":"x"}}', /overrides: .*expected array/],
    ['a time beyond what a Date holds', '{"version":3,"overrides":[{"id":"o","kind":"drain","mirror":"m","reason":"r","author":"a","createdAt":1e20}]}', /overrides\.0\.createdAt/],
    ['not JSON', '{"version":', /not valid JSON/],
  ];
  for (const [what, text, expected] of shapes) {
    it(`${what}: load and save refuse it with the path and what was expected, and the file is never overwritten`, async () => {
      const dir = tmp();
      const path = join(dir, 'state.json');
      writeFileSync(path, text);
      const s = new FileStateStore(dir);
      const refused = (e: unknown) => {
        assert.ok(e instanceof StateCorruptError, String(e));
        assert.equal(e.code, 'STATE_CORRUPT');
        assert.equal(e.exitCode, 2);
        assert.ok(e.message.includes(path), e.message);
        assert.match(e.message, expected);
        return true;
      };
      await assert.rejects(s.load(), refused);
      await assert.rejects(s.save(emptyState(), 0), refused);
      await assert.rejects(s.save(emptyState(), 3), refused);
      await assert.rejects(updateState(s, (st) => { st.lastGood = ['x']; }), refused);
      assert.equal(readFileSync(path, 'utf8'), text);
    });
  }

  it('a state of an older version without the later fields reads as empty for them; unknown fields are kept', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'state.json'), '{"version":4,"lastGood":["a"],"future":{"x":1}}');
    const s = new FileStateStore(dir);
    const st = await s.load();
    assert.deepEqual([st.version, st.lastGood, st.overrides, st.health, st.providers], [4, ['a'], [], {}, {}]);
    assert.equal(await s.save(st, 4), true);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).future, { x: 1 });
  });

  it('refuses to save a state that would not read back (NaN becomes null in JSON)', async () => {
    const dir = tmp();
    const s = new FileStateStore(dir);
    const st = emptyState();
    st.health.m1 = { state: 'up', successStreak: 1, failureStreak: 0, recentFlips: [], lastLatencyMs: Number.NaN };
    await assert.rejects(s.save(st, 0), (e: unknown) => e instanceof StateError && e.code === 'STATE_CORRUPT' && /health\.m1\.lastLatencyMs/.test(e.message));
    assert.equal(existsSync(join(dir, 'state.json')), false);
  });
});

describe('FileStateStore: faults and locks', () => {
  it('an audit log that cannot be written rejects append with STATE_UNAVAILABLE naming the directory', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'audit.log')); // as root no permission bit stops a write; a directory in its place does
    const s = new FileStateStore(dir);
    await assert.rejects(s.append({ at: 1, kind: 'override', message: 'x' }), (e: unknown) => e instanceof StateError && e.code === 'STATE_UNAVAILABLE' && e.message.includes(dir) && /EISDIR/.test(e.message));
  });

  for (const [what, content] of [['empty', ''], ['garbage', 'not a pid\n'], ['a dead process', '2147483646\n']] as const) {
    it(`a lock file holding ${what} is stale: the next save takes it over at once`, async () => {
      const dir = tmp();
      const lock = join(dir, 'state.lock');
      writeFileSync(lock, content);
      const old = new Date(Date.now() - 60_000);
      utimesSync(lock, old, old); // left by a crash a minute ago
      const s = new FileStateStore(dir);
      const t0 = Date.now();
      assert.equal(await s.save(emptyState(), 0), true);
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      assert.equal(existsSync(lock), false, 'released');
    });
  }

  it('a lock held by a live process is waited for, then refused with STATE_CONFLICT naming the holder', async () => {
    const dir = tmp();
    const lock = join(dir, 'held.lock');
    writeFileSync(lock, `${process.pid}\n`);
    await assert.rejects(withFileLock(lock, async () => 1, { timeoutMs: 200 }), (e: unknown) => e instanceof StateError && e.code === 'STATE_CONFLICT' && e.message.includes(`process ${process.pid}`));
    rmSync(lock);
    assert.equal(await withFileLock(lock, async () => 2, { timeoutMs: 200 }), 2);
  });
});

describe('FileStateStore: audit log segments, tail and pages', () => {
  const ev = (i: number) => ({ at: 1_700_000_000_000 + i, kind: 'apply', message: `e${i}`, data: { i } });
  const segmentFiles = (dir: string) => readdirSync(dir).filter((n) => /^audit\.(\d+\.)?log$/.test(n)).sort();
  async function allByPages(s: FileStateStore, limit: number) {
    const out: number[] = [];
    let before: string | undefined;
    let pages = 0;
    do {
      const p = await s.auditPage({ before, limit });
      assert.ok(p.events.length <= limit);
      out.unshift(...p.events.map((e) => (e.data as { i: number }).i));
      before = p.next;
      pages++;
    } while (before !== undefined);
    return { out, pages };
  }

  it('rotates by size into numbered segments; pages and audit() read every event in order across them', async () => {
    const dir = tmp();
    const s = new FileStateStore(dir, { maxSegmentBytes: 1000, tailSize: 50 });
    for (let i = 0; i < 300; i++) await s.append(ev(i));
    const files = segmentFiles(dir);
    assert.ok(files.length > 10, files.join(' '));
    assert.ok(files.includes('audit.log'), 'the first segment keeps the old name');
    for (const f of files) assert.ok(statSync(join(dir, f)).size < 1000 + 200, `${f} is bounded`);
    const { out, pages } = await allByPages(s, 7);
    assert.deepEqual(out, Array.from({ length: 300 }, (_, i) => i));
    assert.equal(pages, Math.ceil(300 / 7));
    assert.deepEqual((await s.audit(0, 20)).map((e) => e.message), Array.from({ length: 20 }, (_, i) => `e${280 + i}`));
    // beyond the in-memory tail: read from the segments
    const wide = await new FileStateStore(dir, { tailSize: 50 }).audit(1_700_000_000_000 + 100, 1000);
    assert.deepEqual(wide.map((e) => e.message), Array.from({ length: 200 }, (_, i) => `e${100 + i}`));
    const since = await s.auditPage({ since: 1_700_000_000_000 + 290, limit: 100 });
    assert.deepEqual(since.events.map((e) => e.message), Array.from({ length: 10 }, (_, i) => `e${290 + i}`));
    assert.equal(since.next, undefined);
  });

  it('keeps at most maxSegments segments, deleting the oldest', async () => {
    const dir = tmp();
    const s = new FileStateStore(dir, { maxSegmentBytes: 500, maxSegments: 3 });
    for (let i = 0; i < 100; i++) await s.append(ev(i));
    assert.equal(segmentFiles(dir).length, 3);
    const { out } = await allByPages(s, 50);
    assert.deepEqual(out, out.slice().sort((a, b) => a - b));
    assert.equal(out.at(-1), 99);
  });

  it('a crash mid-rotation loses nothing: a new empty segment, and a writer still appending to the old one', async () => {
    const dir = tmp();
    const a = new FileStateStore(dir, { maxSegmentBytes: 1_000_000 });
    for (let i = 0; i < 5; i++) await a.append(ev(i));
    // the rotating process died right after creating the next segment
    writeFileSync(join(dir, 'audit.000001.log'), '');
    // a process that had not seen the rotation appends to the old segment, torn by a crash
    appendFileSync(join(dir, 'audit.log'), `${JSON.stringify(ev(5))}\n{"at":17000000`);
    const b = new FileStateStore(dir);
    for (let i = 6; i < 9; i++) await b.append(ev(i));
    assert.ok(readFileSync(join(dir, 'audit.000001.log'), 'utf8').includes('"e6"'), 'new appends go to the new segment');
    const p = await b.auditPage({ limit: 100 });
    assert.deepEqual(p.events.map((e) => e.message), Array.from({ length: 9 }, (_, i) => `e${i}`));
    assert.equal(p.skipped, 0, 'a torn tail is not a line');
    assert.deepEqual((await b.audit()).map((e) => e.message), Array.from({ length: 9 }, (_, i) => `e${i}`));
  });

  it('audit() is served from memory: only bytes appended since are read, by this or another process', async () => {
    const dir = tmp();
    const s = new FileStateStore(dir, { maxSegmentBytes: 2000, tailSize: 100 });
    for (let i = 0; i < 40; i++) await s.append(ev(i));
    assert.equal((await s.audit()).length, 40);
    // damage every byte already read: a store that re-reads the log would now see nothing
    for (const f of segmentFiles(dir)) {
      const p = join(dir, f);
      writeFileSync(p, 'x'.repeat(statSync(p).size - 1) + '\n');
    }
    const other = new FileStateStore(dir, { maxSegmentBytes: 2000 });
    for (let i = 40; i < 60; i++) await other.append(ev(i));
    const seen = await s.audit();
    assert.deepEqual(seen.map((e) => e.message), Array.from({ length: 60 }, (_, i) => `e${i}`));
    assert.deepEqual((await s.audit(1_700_000_000_000 + 55)).map((e) => e.message), ['e55', 'e56', 'e57', 'e58', 'e59']);
  });

  it('lines that are not events (out-of-range time, not JSON, wrong shape) are skipped and counted', async () => {
    const dir = tmp();
    const s = new FileStateStore(dir);
    await s.append(ev(1));
    appendFileSync(join(dir, 'audit.log'), '{"at":1e20,"kind":"apply","message":"far"}\nnot json\n{"at":"x","kind":1}\n[]\n');
    await s.append(ev(2));
    const p = await s.auditPage({ limit: 10 });
    assert.deepEqual(p.events.map((e) => e.message), ['e1', 'e2']);
    assert.equal(p.skipped, 4);
    assert.deepEqual((await s.audit()).map((e) => e.message), ['e1', 'e2']);
  });

  it('a writer killed with SIGKILL while rotating every few appends loses no acknowledged entry', async () => {
    const dir = tmp();
    const script = `
      import { FileStateStore } from ${JSON.stringify(join(import.meta.dirname, '../../src/state/file-state-store.ts'))};
      const s = new FileStateStore(${JSON.stringify(dir)}, { maxSegmentBytes: 4096 });
      for (let i = 0; ; i++) { await s.append({ at: Date.now(), kind: 'apply', message: 'x'.repeat(i % 700), data: { i } }); process.stdout.write(i + '\\n'); }
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = -1;
    let progressed: () => void;
    const enough = new Promise<void>((r) => (progressed = r));
    child.stdout.on('data', (d: Buffer) => {
      const lines = d.toString().trim().split('\n');
      acked = Number(lines[lines.length - 1]);
      if (acked > 300) progressed();
    });
    try {
      await enough;
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    assert.ok(segmentFiles(dir).length > 5, segmentFiles(dir).join(' '));
    const s = new FileStateStore(dir, { maxSegmentBytes: 4096 });
    const { out } = await allByPages(s, 500);
    const seen = new Set(out);
    for (let i = 0; i <= acked; i++) assert.ok(seen.has(i), `acknowledged entry ${i} lost`);
  });
});
