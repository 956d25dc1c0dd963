import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { missedMirrors } from '../../src/certs/cert-deploy.ts';
import type { MirrorSpec } from '../../src/domain/fleet-spec.ts';

describe('missedMirrors (what makes certs issue|renew|deploy|status exit 1)', () => {
  const mirrors: Pick<MirrorSpec, 'name' | 'provider'>[] = [
    { name: 'ok', provider: 'ssh' },
    { name: 'old', provider: 'aws' },
    { name: 'nokey', provider: 'ssh' },
    { name: 'refused', provider: 'hcloud' },
    { name: 'never', provider: 'aws' },
    { name: 'proc', provider: 'local' },
  ];
  it('names every mirror that should hold the serial and does not; a local mirror never counts', () => {
    const at = 1;
    const r = missedMirrors(mirrors, 'S2', {
      ok: { at, serial: 'S2' },
      old: { at, serial: 'S1' },
      nokey: { at, skipped: true, error: 'the environment variable K (its SSH key) is not set' },
      refused: { at, error: 'SSH host key of mirror refused … changed' },
      proc: { at, skipped: true, error: 'a local mirror' },
    });
    assert.deepEqual(r, [
      { mirror: 'old', why: 'holds serial S1' },
      { mirror: 'nokey', why: 'skipped: the environment variable K (its SSH key) is not set' },
      { mirror: 'refused', why: 'failed: SSH host key of mirror refused … changed' },
      { mirror: 'never', why: 'never deployed to' },
    ]);
    assert.deepEqual(missedMirrors([{ name: 'proc', provider: 'local' }], 'S2', {}), []);
  });
});
