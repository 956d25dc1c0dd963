import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { updateState } from '../../src/state/state-store.ts';

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

  it('a writer process killed with SIGKILL mid-stream loses no acknowledged entry', async () => {
    const dir = tmp();
    const script = `
      import { FileStateStore } from ${JSON.stringify(join(import.meta.dirname, '../../src/state/file-state-store.ts'))};
      const s = new FileStateStore(${JSON.stringify(dir)});
      for (let i = 0; ; i++) { await s.append({ at: Date.now(), kind: 'apply', message: 'x'.repeat(i % 5000), data: { i } }); process.stdout.write(i + '\\n'); }
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = -1;
    let progressed: () => void;
    const enough = new Promise<void>((r) => (progressed = r));
    child.stdout.on('data', (d: Buffer) => {
      const lines = d.toString().trim().split('\n');
      acked = Number(lines[lines.length - 1]);
      if (acked > 200) progressed();
    });
    try {
      await enough; // killed mid-stream, once it has acknowledged plenty
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    assert.ok(acked > 10, `writer made progress (${acked})`);
    const events = await new FileStateStore(dir).audit();
    const seen = new Set(events.map((e) => (e.data as { i: number }).i));
    for (let i = 0; i <= acked; i++) assert.ok(seen.has(i), `acknowledged entry ${i} lost`);
    // the log is still appendable and readable after the kill
    await new FileStateStore(dir).append({ at: Date.now(), kind: 'daemon', message: 'restarted' });
    assert.equal((await new FileStateStore(dir).audit()).at(-1)?.message, 'restarted');
    assert.ok(readFileSync(join(dir, 'audit.log'), 'utf8').endsWith('\n'));
  });
});
