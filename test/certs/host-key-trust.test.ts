import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HostKeyPins } from '../../src/certs/host-key-pins.ts';
import { trustHostKey } from '../../src/certs/host-key-trust.ts';
import { fingerprint } from '../../src/certs/known-hosts.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import type { MirrorSpec } from '../../src/domain/fleet-spec.ts';
import { FileSecretStore } from '../../src/state/secret-store.ts';

const OLD = { type: 'ssh-ed25519', key: Buffer.from('old host key blob').toString('base64') };
const NEW = { type: 'ssh-ed25519', key: Buffer.from('new host key blob').toString('base64') };

describe('trustHostKey (certs trust), the host scan injected', () => {
  const mirrors: MirrorSpec[] = [
    { name: 'box', provider: 'ssh', ipv4: '192.0.2.7', settings: { sshKeyEnv: 'BOX_KEY' } },
    { name: 'proc', provider: 'local', ipv4: '127.0.0.11', settings: {} },
  ];
  const setup = async () => {
    const secrets = new FileSecretStore(mkdtempSync(join(tmpdir(), 'flotilla-trust-')));
    await new HostKeyPins(secrets).replace('192.0.2.7', 22, [OLD], 'first-use');
    const audit: Omit<AuditEvent, 'at'>[] = [];
    const trust = (mirror: string, fp?: string) => trustHostKey({ spec: { mirrors }, mirror, fingerprint: fp, secrets, actor: 'oncall', audit: async (e) => void audit.push(e), scan: async () => [NEW] });
    return { secrets, audit, trust };
  };

  it('pins only the presented key whose fingerprint was given, and audits who did it', async () => {
    const { secrets, audit, trust } = await setup();
    assert.deepEqual(await trust('box'), { action: 'need-fingerprint', address: '192.0.2.7:22', pinned: [fingerprint(OLD)], presented: [fingerprint(NEW)] });
    await assert.rejects(trust('box', fingerprint(OLD)), { code: 'CERT_HOST_KEY' });
    assert.deepEqual(await new HostKeyPins(secrets).pinned('192.0.2.7', 22), [OLD], 'nothing pinned without the right fingerprint');
    assert.equal(audit.length, 0);
    // accepted with or without the SHA256: prefix
    assert.deepEqual(await trust('box', fingerprint(NEW).slice('SHA256:'.length)), { action: 'trusted', address: '192.0.2.7:22', previous: [fingerprint(OLD)], fingerprint: fingerprint(NEW) });
    assert.deepEqual(await new HostKeyPins(secrets).pinned('192.0.2.7', 22), [NEW]);
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor, 'oncall');
    assert.equal(audit[0].data?.code, 'CERT_HOST_KEY_TRUSTED');
    assert.deepEqual((await trust('box', fingerprint(NEW))).action, 'already-pinned');
  });

  it('a mirror that is no SSH deploy target, or unknown, is a usage error (exit 2)', async () => {
    const { trust } = await setup();
    await assert.rejects(trust('proc', 'SHA256:x'), (e: Error & { code?: string }) => e.code === 'USAGE' && /mirror proc gets no certificate over SSH: a local mirror/.test(e.message));
    await assert.rejects(trust('nope', 'SHA256:x'), (e: Error & { code?: string }) => e.code === 'USAGE' && /no mirror nope in the stack \(certificate deploy targets: box\)/.test(e.message));
  });
});
