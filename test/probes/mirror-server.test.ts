/** The test mirror itself (test/support/mirror-server.ts), checked with node:http so it does not rely on the probes. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { spawnMirrorProcess, startMirror, WRONG_BYTES_SUFFIX, type MirrorServer } from '../support/mirror-server.ts';
import { INDEX, tempSite } from './helpers.ts';

function get(url: string, path = '/'): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(new URL(path, url), { agent: false, headers: { host: 'example.test' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.setTimeout(5000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.end();
  });
}

describe('mirror server', () => {
  let site: Awaited<ReturnType<typeof tempSite>>;
  let mirror: MirrorServer;
  before(async () => {
    site = await tempSite();
    mirror = await startMirror({ host: '127.0.0.31', port: 0, contentDir: site.contentDir });
  });
  after(async () => {
    await mirror.stop();
    await site.cleanup();
  });

  it('listens on a 127.0.0.x address other than 127.0.0.1 and serves the site, / as index.html', async () => {
    assert.match(mirror.url, /^http:\/\/127\.0\.0\.31:\d+$/);
    assert.deepEqual(await get(mirror.url, '/'), { status: 200, body: INDEX });
    assert.deepEqual(await get(mirror.url, '/index.html'), { status: 200, body: INDEX });
    assert.equal(((await get(mirror.url, '/nope.html')) as { status: number }).status, 404);
    assert.equal(((await get(mirror.url, '/..%2F..%2Fetc%2Fpasswd')) as { status: number }).status, 403);
    assert.equal(mirror.lastRequest?.host, 'example.test');
  });

  it('switches modes at runtime', async () => {
    mirror.setMode('wrong-bytes');
    assert.deepEqual(await get(mirror.url), { status: 200, body: INDEX + WRONG_BYTES_SUFFIX });
    mirror.setMode('status-503');
    assert.equal(((await get(mirror.url)) as { status: number }).status, 503);
    mirror.setMode('slow', { delayMs: 300 });
    const t0 = performance.now();
    assert.deepEqual(await get(mirror.url), { status: 200, body: INDEX });
    assert.ok(performance.now() - t0 >= 290);
    mirror.setMode('drop-every-10th');
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await get(mirror.url);
      outcomes.push('error' in r ? r.error : String(r.status));
    }
    assert.deepEqual(outcomes.map((o, i) => [i, o]).filter(([, o]) => o !== '200'), [[9, 'ECONNRESET'], [19, 'ECONNRESET']]);
    mirror.setMode('ok');
    assert.equal(mirror.mode, 'ok');
    assert.throws(() => mirror.setMode('broken' as never), /unknown mirror mode/);
  });

  it('runs as a child process that takes modes over IPC and can be SIGKILLed', async () => {
    const child = spawnMirrorProcess({ host: '127.0.0.32', port: 0, contentDir: site.contentDir });
    try {
      const { url, port } = await child.ready;
      assert.ok(port > 0);
      assert.ok(child.pid > 0);
      assert.deepEqual(await get(url), { status: 200, body: INDEX });
      await child.setMode('status-503');
      assert.equal(((await get(url)) as { status: number }).status, 503);
      child.kill('SIGKILL');
      assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
      assert.deepEqual(await get(url), { error: 'ECONNREFUSED' });
    } finally {
      await child.stop();
    }
  });

  it('stop() ends a stopped (SIGSTOP) child too', async () => {
    const child = spawnMirrorProcess({ host: '127.0.0.33', port: 0, contentDir: site.contentDir });
    const { url } = await child.ready;
    child.kill('SIGSTOP');
    await child.stop();
    const { code, signal } = await child.exited;
    assert.ok(code === 0 || signal !== null, `code ${code} signal ${signal}`);
    assert.deepEqual(await get(url), { error: 'ECONNREFUSED' });
  });

  it('fails ready when the child cannot listen', async () => {
    const child = spawnMirrorProcess({ host: '127.0.0.31', port: mirror.port, contentDir: site.contentDir });
    await assert.rejects(child.ready, /EADDRINUSE/);
    await child.exited;
  });
});
