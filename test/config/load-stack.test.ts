import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadStack } from '../../src/config/load-stack.ts';
import { mirrorHealth } from '../../src/domain/fleet-spec.ts';
import { REPO } from '../support/run-cli.ts';

describe('loadStack', () => {
  it('turns the local stack into a FleetSpec with durations in ms and the site digest', async () => {
    const spec = await loadStack({ stack: 'local', cwd: REPO });
    assert.equal(spec.health.intervalMs, 250);
    assert.equal(spec.health.timeoutMs, 200);
    assert.equal(spec.policy.ownerId, 'flotilla-local');
    assert.match(spec.site.digest, /^[0-9a-f]{64}$/);
    assert.ok(spec.site.files['/index.html']);
    assert.equal(spec.site.files['/'], spec.site.files['/index.html']);
    assert.equal(spec.state.path, join(REPO, '.flotilla/local'));
  });

  it('a per-mirror health override changes only the fields it names', async () => {
    const spec = await loadStack({ file: join(REPO, 'test/fixtures/mirror-override.yaml'), cwd: REPO });
    const [a, b] = spec.mirrors;
    assert.deepEqual(a.health, { port: 9999 });
    const h = mirrorHealth(spec, a);
    assert.equal(h.port, 9999);
    assert.equal(h.intervalMs, 250, 'the fleet interval must survive a port-only override');
    assert.equal(h.fall, 3);
    assert.equal(mirrorHealth(spec, b).timeoutMs, 150);
  });
});
