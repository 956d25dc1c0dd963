import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { dig } from '../support/dig.ts';
import { projectCopy, type ProjectCopy } from '../support/project-copy.ts';
import { BIN, runCli } from '../support/run-cli.ts';

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, ms: number, what: () => string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) assert.fail(what());
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('`demo --keep` and the responder CLI share the stack state', { timeout: 180_000 }, () => {
  let project: ProjectCopy;
  before(() => { project = projectCopy(); });
  after(() => project.remove());

  it('a drain from the CLI reaches the running demo, says who acts on it, and nothing is promised once it stopped', async () => {
    const demo = spawnTracked(process.execPath, [BIN, 'demo', '--keep'], { cwd: project.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    demo.stdout!.on('data', (d) => (out += d));
    demo.stderr!.on('data', (d) => (out += d));
    try {
      await waitFor(() => (/drain by hand/.test(out) ? true : demo.exitCode !== null ? assert.fail(`demo ended:\n${out}`) : undefined), 90_000, () => `demo never reached --keep:\n${out}`);
      const pid = Number(/runs as pid (\d+)/.exec(out)![1]);
      const dnsAddr = /embedded DNS server on ([\d.]+:\d+)/.exec(out)![1];
      assert.match(out, /flotilla drain local-b --stack local/);

      const drained = await runCli(['drain', 'local-b', '--stack', 'local', '--reason', 'trying it'], { cwd: project.dir });
      assert.equal(drained.code, 0, drained.stderr);
      assert.match(drained.stdout, new RegExp(`the running controller \\(pid ${pid} on .*\\) picks this up`));
      const answer = await waitFor(async () => {
        const r = await dig(dnsAddr, 'flotilla.test', 'A');
        const v = r.answers.map((a) => a.value).sort().join(',');
        return v === '127.0.0.11,127.0.0.13' ? v : undefined;
      }, 10_000, () => 'the demo never acted on the drain from the CLI');
      assert.equal(answer, '127.0.0.11,127.0.0.13');

      await stopChild(demo, { signal: 'SIGTERM', graceMs: 30_000 });
      const late = await runCli(['undrain', 'local-b', '--stack', 'local'], { cwd: project.dir });
      assert.equal(late.code, 0, late.stderr);
      assert.doesNotMatch(late.stdout, /picks this up/);
      assert.match(late.stdout, /no controller has saved this stack's state .* takes effect when `flotilla daemon --stack local` runs/);
    } finally {
      await stopChild(demo, { signal: 'SIGKILL' });
    }
  });

  it('refuses to share a state with open overrides (the steps would lie), changing nothing', async () => {
    const d = await runCli(['drain', 'local-c', '--stack', 'local', '--reason', 'left open', '--for', '1h'], { cwd: project.dir });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /no controller has saved/);
    const r = await runCli(['demo', '--keep'], { cwd: project.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /open overrides \(drain local-c by .*\); clear them with `flotilla clear MIRROR --stack local`/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const st = await runCli(['status', '--stack', 'local', '--json'], { cwd: project.dir });
    assert.match(st.stdout, /left open/, 'the drain is still there');
  });
});
