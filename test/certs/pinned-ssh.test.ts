/**
 * pinnedSshRunner against a real sshd, with the pins in a real etcd shared by two controllers (two secret stores on
 * one prefix): what one controller pinned on first use, the other enforces; the known_hosts it hands ssh is 0600 and
 * gone after the call.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { HostKeyPins, KNOWN_HOSTS_SECRET } from '../../src/certs/host-key-pins.ts';
import { pinnedSshRunner } from '../../src/certs/pinned-ssh.ts';
import { EtcdSecretStore } from '../../src/state/secret-store.ts';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';
import { startSshd, type SshdServer } from '../support/sshd-server.ts';

describe('pinnedSshRunner (real sshd, pins in a real etcd shared by two controllers)', { timeout: 120_000 }, () => {
  let etcd: EtcdHandle;
  let sshd: SshdServer;
  before(async () => {
    etcd = await startEtcd();
    sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
    await etcd?.stop();
  });

  it('controller A pins on first use; after the key changes controller B refuses before running anything', async () => {
    const a = new EtcdSecretStore([etcd.endpoint], '/flotilla/pin/');
    const b = new EtcdSecretStore([etcd.endpoint], '/flotilla/pin/');
    const runner = (secrets: EtcdSecretStore) => pinnedSshRunner({ mirror: 'box', host: '127.0.0.1', port: sshd.port, user: sshd.user, key: sshd.clientKey, pins: new HostKeyPins(secrets) });
    // the script shows the mode of the known_hosts ssh was handed while it runs
    // (the path literally: the session on the box does not inherit this process's TMPDIR, which `npm test` sets)
    const script = `ls -l ${tmpdir()}/flotilla-known-hosts-*/known_hosts; echo ran-on-box\n`;
    const leftBefore = readdirSync(tmpdir()).filter((f) => f.startsWith('flotilla-known-hosts-')).length;
    const first = await runner(a)(script);
    assert.equal(first.code, 0, first.stderr + sshd.log());
    assert.match(first.stdout, /^-rw------- /m, 'known_hosts is 0600');
    assert.deepEqual(first.hostKey, { status: 'first-use', mirror: 'box', address: `127.0.0.1:${sshd.port}`, pinned: [], presented: sshd.hostKeyFingerprint() });
    assert.match((await b.get(KNOWN_HOSTS_SECRET))!, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 AAAA\\S+ flotilla:box:first-use:`));
    const again = await runner(b)(script);
    assert.equal(again.hostKey?.status, 'matched');
    const old = sshd.hostKeyFingerprint();
    await sshd.rotateHostKey('ecdsa'); // another key type is refused too, never added beside the pin
    const refused = await runner(b)(script);
    assert.equal(refused.code, 255);
    assert.doesNotMatch(refused.stdout, /ran-on-box/);
    assert.deepEqual(refused.hostKey, { status: 'changed', mirror: 'box', address: `127.0.0.1:${sshd.port}`, pinned: [old], presented: sshd.hostKeyFingerprint() });
    assert.deepEqual((await new HostKeyPins(a).pinned('127.0.0.1', sshd.port)).length, 1, 'the pin is unchanged');
    assert.equal(readdirSync(tmpdir()).filter((f) => f.startsWith('flotilla-known-hosts-')).length, leftBefore, 'temp known_hosts removed');
  });
});
