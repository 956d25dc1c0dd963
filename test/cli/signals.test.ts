import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { BIN, REPO } from '../support/run-cli.ts';

/** Waits for `cond`, polling every 50 ms, failing with `what()` after `ms`. */
async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) assert.fail(what());
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Every socket the demo says it listens on: mirrors and the status page over TCP, the DNS server over UDP and TCP. */
function demoSockets(out: string): { proto: 'tcp' | 'udp'; host: string; port: number }[] {
  const found: { proto: 'tcp' | 'udp'; host: string; port: number }[] = [];
  for (const m of out.matchAll(/local-[abc]=([\d.]+):(\d+)/g)) found.push({ proto: 'tcp', host: m[1], port: Number(m[2]) });
  const dns = /embedded DNS server on ([\d.]+):(\d+)/.exec(out);
  if (dns) for (const proto of ['udp', 'tcp'] as const) found.push({ proto, host: dns[1], port: Number(dns[2]) });
  const page = /status page: http:\/\/([\d.]+):(\d+)\//.exec(out);
  if (page) found.push({ proto: 'tcp', host: page[1], port: Number(page[2]) });
  return found;
}

function bindable(s: { proto: 'tcp' | 'udp'; host: string; port: number }): Promise<string | undefined> {
  return new Promise((resolve) => {
    const taken = (e: Error) => resolve(`${s.proto} ${s.host}:${s.port} is still taken: ${e.message}`);
    if (s.proto === 'udp') {
      const u = createSocket('udp4');
      u.once('error', taken);
      u.bind(s.port, s.host, () => u.close(() => resolve(undefined)));
    } else {
      const t = createServer();
      t.once('error', taken);
      t.listen(s.port, s.host, () => t.close(() => resolve(undefined)));
    }
  });
}

/** Starts the demo with --keep; resolves once it printed the pid (stderr) and every address it listens on (stdout). */
async function startDemo(command: string, args: string[]) {
  const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const pidOf = () => Number(/flotilla demo runs as pid (\d+)/.exec(out)?.[1] ?? NaN);
  try {
    // up once it listed every socket: 3 mirrors, the DNS server (UDP, TCP), the status page
    await waitFor(() => (Number.isFinite(pidOf()) && demoSockets(out).length === 6) || child.exitCode !== null, 90_000, () => `the demo never came up:\n${out}`);
    assert.equal(child.exitCode, null, `the demo ended early:\n${out}`);
  } catch (e) {
    reap(child, Number.isFinite(pidOf()) ? pidOf() : undefined);
    throw e;
  }
  return { child, pid: pidOf(), sockets: demoSockets(out), exited, output: () => out };
}

/** Kills whatever of this test's process group is still running (only when the test failed midway). */
function reap(child: ChildProcess, pid: number | undefined) {
  for (const p of [pid, -child.pid!]) {
    if (p === undefined) continue;
    try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  }
}

describe('a signal stops the demo and frees every port it held', { timeout: 240_000 }, () => {
  it('SIGTERM to `flotilla demo --keep`: the pid it prints is the one that holds the ports, and they are free after', async () => {
    const demo = await startDemo(process.execPath, [BIN, 'demo', '--keep']);
    try {
      assert.equal(demo.pid, demo.child.pid, 'the CLI runs in the process that was started, not in a child of it');
      demo.child.kill('SIGTERM');
      await Promise.race([demo.exited, new Promise((r) => setTimeout(r, 30_000))]);
      assert.ok(!alive(demo.pid), `still running 30 s after SIGTERM:\n${demo.output()}`);
      assert.deepEqual((await Promise.all(demo.sockets.map(bindable))).filter(Boolean), []);
    } finally {
      reap(demo.child, demo.pid);
    }
  });

  it('SIGTERM to `npx flotilla demo --keep` (npm does not pass it on): the demo stops as well', async () => {
    const demo = await startDemo('npx', ['flotilla', 'demo', '--keep']);
    try {
      assert.notEqual(demo.pid, demo.child.pid, 'npx runs the CLI in a child process');
      demo.child.kill('SIGTERM');
      await waitFor(() => !alive(demo.pid), 30_000, () => `the demo (pid ${demo.pid}) still runs 30 s after npx got SIGTERM:\n${demo.output()}`);
      assert.deepEqual((await Promise.all(demo.sockets.map(bindable))).filter(Boolean), []);
    } finally {
      reap(demo.child, demo.pid);
    }
  });
});
