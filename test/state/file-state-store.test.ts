import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileStateStore } from '../../src/state/file-state-store.ts';
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
