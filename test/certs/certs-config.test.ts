import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadStack } from '../../src/config/load-stack.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import { probeTargetFor } from '../../src/probes/probe-target.ts';
import { FileSecretStore } from '../../src/state/secret-store.ts';
import { REPO } from '../support/run-cli.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function stack(fleetExtra: string, healthExtra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-certs-config-'));
  writeFileSync(join(dir, 'ca.pem'), CA);
  const file = join(dir, 'Pulumi.t.yaml');
  writeFileSync(file, `config:\n  flotilla:fleet:\n    site: { name: s, contentDir: ${join(REPO, 'site')} }\n    domain: a.test\n    alternateDomains: [b.test]\n    mirrors:\n      - { name: m1, provider: local, ipv4: 127.0.0.11${healthExtra} }\n    dnsProviders:\n      - { name: e, kind: local }\n    state: { path: ${join(dir, 'state')} }\n${fleetExtra}`);
  return file;
}

describe('certs settings in the stack file', () => {
  it('letsencrypt and letsencrypt-staging name their directories; defaults: renew at 2/3, 2 min verify, 12 h check, deploy paths', async () => {
    const spec = await loadStack({ file: stack('    certs: { directory: letsencrypt-staging, email: ops@a.test }\n') });
    assert.equal(spec.certs!.directory, 'https://acme-staging-v02.api.letsencrypt.org/directory');
    assert.equal(spec.certs!.renewAt, 2 / 3);
    assert.equal(spec.certs!.verifyTimeoutMs, 120_000);
    assert.equal(spec.certs!.checkIntervalMs, 12 * 3_600_000);
    assert.deepEqual(spec.certs!.deploy, { dir: '/etc/flotilla/tls', nginxConf: '/etc/nginx/conf.d/flotilla-tls.conf', webRoot: '/var/www/flotilla', nginx: 'nginx' });
    const prod = await loadStack({ file: stack('    certs: { directory: letsencrypt }\n') });
    assert.equal(prod.certs!.directory, 'https://acme-v02.api.letsencrypt.org/directory');
    const any = await loadStack({ file: stack('    certs: { directory: "https://ca.internal:14000/dir" }\n') });
    assert.equal(any.certs!.directory, 'https://ca.internal:14000/dir');
  });

  it('refuses an http directory, credentials in it, a bad e-mail, a deploy path with shell characters, unknown keys', async () => {
    const err = await loadStack({ file: stack('    certs: { directory: "http://ca.test/dir", email: nope, renewAt: 0.99, typo: 1, deploy: { dir: "/etc/$(reboot)" } }\n') }).catch((e) => e);
    assert.ok(err instanceof ConfigError);
    const text = err.message;
    assert.match(text, /certs\.directory: expected letsencrypt, letsencrypt-staging or an https URL \(ACME runs over TLS\)/);
    assert.match(text, /certs\.email: expected an e-mail address/);
    assert.match(text, /certs\.renewAt/);
    assert.match(text, /certs\.typo: unknown key "typo"/);
    assert.match(text, /certs\.deploy\.dir: expected an absolute path/);
    const cred = await loadStack({ file: stack('    certs: { directory: "https://u:p@ca.test/dir" }\n') }).catch((e) => e);
    assert.match(cred.message, /must not carry credentials/);
  });

  it('health.tlsVerify + tlsCaFile: the bundle is read at load and reaches the probe target; a missing file is a clear error', async () => {
    const spec = await loadStack({ file: stack('    health: { scheme: https, tlsVerify: true, tlsCaFile: ca.pem }\n') });
    const t = probeTargetFor(spec, spec.mirrors[0]);
    assert.equal(t.tlsVerify, true);
    assert.equal(t.tlsCa, CA);
    const own = await loadStack({ file: stack('', ', health: { tlsVerify: true, tlsCaFile: ca.pem }') });
    assert.equal(probeTargetFor(own, own.mirrors[0]).tlsCa, CA);
    const missing = await loadStack({ file: stack('    health: { tlsVerify: true, tlsCaFile: nowhere.pem }\n') }).catch((e) => e);
    assert.ok(missing instanceof ConfigError);
    assert.match(missing.message, /flotilla:fleet\.health\.tlsCaFile: cannot read .*nowhere\.pem \(ENOENT\): expected a PEM file/);
  });
});

describe('secrets area (file store)', () => {
  it('keeps each value in a 0600 file in a 0700 directory, whatever the umask, and replaces it whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-secrets-'));
    const old = process.umask(0o000);
    try {
      const s = new FileSecretStore(dir);
      assert.equal(await s.get('acme-account.key'), undefined);
      await s.put('acme-account.key', 'one');
      await s.put('acme-account.key', 'two');
      assert.equal(await s.get('acme-account.key'), 'two');
      assert.equal(statSync(join(dir, 'secrets', 'acme-account.key')).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'secrets')).mode & 0o777, 0o700);
      assert.equal(readFileSync(join(dir, 'secrets', 'acme-account.key'), 'utf8'), 'two');
      await assert.rejects(s.put('../state.json', 'x'), /not a plain word/);
    } finally {
      process.umask(old);
    }
  });
});
