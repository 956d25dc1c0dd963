import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every CommonJS file a fresh node process has loaded after importing `modules` (ESM files are not listed). */
function loadedAfter(modules: string[]): string[] {
  const code = `${modules.map((m) => `await import(${JSON.stringify(m)});`).join('')}
    const { createRequire } = await import('node:module');
    console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
}

describe('the probe path loads only the parts of undici it uses (idle memory)', () => {
  it('the controller and HttpProbe load undici\'s client, never its index (fetch, WebSocket, caches, mocks)', () => {
    const files = loadedAfter(['./src/controller/controller.ts', './src/probes/http-probe.ts']);
    assert.ok(files.some((f) => f.endsWith('/undici/lib/dispatcher/client.js')), 'the client is loaded');
    assert.deepEqual(files.filter((f) => /\/undici\/index\.js$|\/undici\/lib\/web\//.test(f)), []);
    assert.deepEqual(files.filter((f) => /\/node_modules\/(@aws-sdk|@pulumi|cloudflare|hcloud)/.test(f)), [], 'no provider SDK');
  });

  it('never loads node:http2 (the probe does not offer HTTP/2; ~5 MiB of idle RSS)', () => {
    const code = `await import('./src/probes/http-probe.ts');
      console.log(JSON.stringify(process.moduleLoadList.filter((m) => /http2/.test(m))));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), []);
  });
});
