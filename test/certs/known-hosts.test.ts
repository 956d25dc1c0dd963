import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fingerprint, hostKeyRefusal, keysFor, knownHostsName, withKeys } from '../../src/certs/known-hosts.ts';

const ED = { type: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAII45VmJBwNlkVVbapCUZV8maeBPuepY1hhXTd9YxPkiZ' };
const EC = { type: 'ecdsa-sha2-nistp256', key: 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFakeFakeFake' };

describe('known_hosts text', () => {
  it('names an address as ssh does: bare for port 22, [host]:port otherwise', () => {
    assert.equal(knownHostsName('192.0.2.7', 22), '192.0.2.7');
    assert.equal(knownHostsName('127.0.0.1', 2222), '[127.0.0.1]:2222');
  });

  it('fingerprints a key exactly as ssh-keygen -l does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-kh-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const [type, key] = readFileSync(join(dir, 'k.pub'), 'utf8').split(' ');
    const want = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1];
    assert.equal(fingerprint({ key }), want);
    assert.equal(type, 'ssh-ed25519');
  });

  it('replaces the keys of one address and keeps every other line', () => {
    const text = `# kept\n[127.0.0.1]:2222 ${ED.type} ${ED.key}\n192.0.2.7 ${EC.type} ${EC.key}\n|1|hashed= ssh-ed25519 AAAA\n`;
    assert.deepEqual(keysFor(text, '127.0.0.1', 2222), [ED]);
    assert.deepEqual(keysFor(text, '192.0.2.7', 22), [EC]);
    assert.deepEqual(keysFor(text, '127.0.0.1', 22), [], 'another port is another address');
    const next = withKeys(text, '127.0.0.1', 2222, [EC], 'flotilla:box trusted');
    assert.deepEqual(keysFor(next, '127.0.0.1', 2222), [EC]);
    assert.deepEqual(keysFor(next, '192.0.2.7', 22), [EC]);
    assert.match(next, /^# kept\n/);
    assert.match(next, /\|1\|hashed= ssh-ed25519 AAAA\n/);
    assert.match(next, /\[127\.0\.0\.1\]:2222 ecdsa-sha2-nistp256 \S+ flotilla:box_trusted\n$/);
    assert.equal(withKeys('', '10.0.0.1', 22, []), '');
  });

  it("reads ssh's refusal of a changed key and the fingerprint it was shown", () => {
    const stderr = [
      '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
      'The fingerprint for the ED25519 key sent by the remote host is',
      'SHA256:8CzL81zbqbXzJpBRYlHbvjYWp3JwKOdao9uJKNzZp4g.',
      'Host key for [127.0.0.1]:37461 has changed and you have requested strict checking.',
      'Host key verification failed.',
    ].join('\n');
    assert.deepEqual(hostKeyRefusal(stderr), { refused: true, presented: 'SHA256:8CzL81zbqbXzJpBRYlHbvjYWp3JwKOdao9uJKNzZp4g' });
    assert.deepEqual(hostKeyRefusal('ssh: connect to host 127.0.0.1 port 22: Connection refused'), { refused: false, presented: undefined });
  });
});
