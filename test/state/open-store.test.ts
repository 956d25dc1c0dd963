import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const REPO = join(import.meta.dirname, '..', '..');

/** Whether a fresh node process has loaded the etcd3 package after running `code` (ESM, tsx loaded). */
function loadsEtcd3(code: string): boolean {
  const script = `${code}
    const { createRequire } = await import('node:module');
    const cache = createRequire(import.meta.url).cache;
    process.stdout.write(String(Object.keys(cache).some((k) => k.includes('/node_modules/etcd3/'))));`;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' }).trim() === 'true';
}

describe('openStore / openCluster', () => {
  it('a file-state stack never loads etcd3 (gRPC: ~25 MiB of a daemon\'s RSS)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-open-store-'));
    assert.equal(loadsEtcd3(`
      const { openStore, openCluster } = await import('./src/state/open-store.ts');
      const spec = { stack: 't', state: { kind: 'file', path: ${JSON.stringify(dir)}, endpoints: [] } };
      await openStore(spec).load();
      await openCluster(spec, 'v');`), false);
  });

  it('an etcd stack loads it when the cluster is opened', () => {
    assert.equal(loadsEtcd3(`
      const { openCluster } = await import('./src/state/open-store.ts');
      const c = await openCluster({ stack: 't', state: { kind: 'etcd', endpoints: ['127.0.0.1:1'] } }, 'v');
      await c.stop();`), true);
  });
});
