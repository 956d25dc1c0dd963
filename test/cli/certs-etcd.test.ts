/**
 * `flotilla certs` on the etcd store, as users run it beside a cluster: two `certs issue` at once take turns on the
 * etcd order lock (the second says whom it waits for), and the secrets area is sealed once the stack names a key
 * (`certs status` warns while it is not). Real bin, real etcd, pebble and the embedded DNS server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { openZoneStore } from '../../src/drivers/local/zone-store.ts';
import { spawnTracked } from '../support/child-processes.ts';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';
import { freePort } from '../support/ports.ts';
import { startPebble, type PebbleServer } from '../support/pebble-server.ts';
import { BIN, REPO, runCli } from '../support/run-cli.ts';

const ZONE = 'certs-etcd.test';

interface Run { pid: number; code: number; lines: { at: number; text: string }[]; stderr: string }

/** The bin with every stdout line timed as it arrives (the order of two processes' steps is what is checked). */
function runTimed(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Run['lines'] = [];
    let partial = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => {
      const parts = (partial + b.toString()).split('\n');
      partial = parts.pop()!;
      for (const text of parts) lines.push({ at: Date.now(), text });
    });
    child.stderr!.on('data', (b: Buffer) => (stderr += b));
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(t);
      resolve({ pid: child.pid!, code: code ?? -1, lines, stderr });
    });
  });
}

describe('flotilla certs on etcd (CLI, real etcd + pebble + embedded DNS)', { timeout: 240_000 }, () => {
  let etcd: EtcdHandle;
  let embedded: EmbeddedDnsServer;
  let pebble: PebbleServer;
  let dir: string;
  let env: Record<string, string>;
  const stack = (name: string, stateExtra = '') => {
    // the stack name is the file's; the variant with a key lives in a directory of its own
    const file = join(dir, stateExtra ? 'keyed' : '', `Pulumi.${name}.yaml`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `config:\n  flotilla:fleet:\n    site: { name: s, contentDir: ${join(REPO, 'site')} }\n    domain: ${ZONE}\n    alternateDomains: []\n    mirrors:\n      - { name: m1, provider: local, ipv4: 127.0.0.11 }\n    dnsProviders:\n      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${embedded.port}, zoneDir: ${join(dir, 'zones')} } }\n    state: { kind: etcd, endpoints: [${etcd.endpoint}], lease: 2s${stateExtra} }\n    certs: { directory: '${pebble.directoryUrl}', verifyTimeout: 10s }\n`);
    return file;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-certs-etcd-'));
    etcd = await startEtcd();
    const zones = openZoneStore(join(dir, 'zones'));
    await zones.ensureZone(ZONE);
    embedded = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: await freePort(), store: zones });
    pebble = await startPebble({ dnsServer: embedded.address });
    writeFileSync(join(dir, 'pebble-ca.pem'), pebble.listenerCa);
    env = { NODE_EXTRA_CA_CERTS: join(dir, 'pebble-ca.pem') };
  });
  after(async () => {
    await pebble?.stop();
    await embedded?.close();
    await etcd?.stop();
  });

  it('two `certs issue` at once against one etcd take turns: the second waits on the etcd lock until the first has issued', async () => {
    const file = stack('turns');
    const [a, b] = await Promise.all([runTimed(['certs', 'issue', '--config', file], env), runTimed(['certs', 'issue', '--config', file], env)]);
    const text = (r: Run) => r.lines.map((l) => l.text).join('\n');
    for (const r of [a, b]) assert.match(text(r), new RegExp(`issued ${ZONE}: serial`), `${text(r)}\n${r.stderr}`);
    const waiting = [a, b].filter((r) => /waiting for the certificate order lock/.test(text(r)));
    assert.equal(waiting.length, 1, `exactly one waited:\n--- a\n${text(a)}\n--- b\n${text(b)}`);
    const [w] = waiting;
    const first = w === a ? b : a;
    assert.match(text(w), new RegExp(`waiting for the certificate order lock, held by .* pid ${first.pid} since`), 'it names the holder');
    const issuedAt = first.lines.find((l) => /^issued /.test(l.text))!.at;
    const tookAt = w.lines.find((l) => /took the certificate order lock after/.test(l.text))?.at;
    assert.ok(tookAt !== undefined && tookAt >= issuedAt, 'the second took the lock only after the first had issued');
    const serial = (r: Run) => /serial (\S+),/.exec(text(r))?.[1];
    assert.notEqual(serial(a), serial(b), 'two orders, one after the other');
    const c = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      assert.equal((await c.getAll().prefix('/flotilla/turns/locks/').keys()).length, 0, 'the lock is released');
    } finally {
      c.close();
    }
  });

  it('plaintext secrets in etcd: certs status and status warn; with state.secretsKeyEnv the next issue seals them, and a wrong key is a clear error', async () => {
    const plain = stack('sealing');
    const first = await runCli(['certs', 'issue', '--config', plain], { env });
    assert.match(first.stdout, /issued /, first.stdout + first.stderr);
    const st = await runCli(['certs', 'status', '--config', plain], { env });
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stderr, /warning: 5 secret\(s\) in etcd are stored in plaintext \(acme-account\.key, acme-accounts\.json, site-cert\.json, site\.crt, site\.key\): set state\.secretsKeyEnv/);
    const status = await runCli(['status', '--config', plain], { env });
    assert.match(status.stdout, /certificate renewals: no leader now, so nobody renews/);
    assert.match(status.stdout, /warning: \d secret\(s\) in etcd are stored in plaintext/);

    const key = randomBytes(32).toString('base64');
    const sealed = stack('sealing', ', secretsKeyEnv: FLOTILLA_SECRETS_KEY');
    const issue = await runCli(['certs', 'issue', '--config', sealed], { env: { ...env, FLOTILLA_SECRETS_KEY: key } });
    assert.match(issue.stdout, /sealed 5 secret\(s\) that etcd held in plaintext: acme-account\.key, acme-accounts\.json, site-cert\.json, site\.crt, site\.key/, issue.stdout + issue.stderr);
    assert.match(issue.stdout, /issued /);
    const c = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      const all = await c.getAll().prefix('/flotilla/sealing/secrets/').strings();
      assert.ok(Object.values(all).every((v) => v.startsWith('{"flotillaSealed":1,')), 'every value sealed');
      assert.ok(!Object.values(all).some((v) => v.includes('PRIVATE KEY')));
    } finally {
      c.close();
    }
    const quiet = await runCli(['certs', 'status', '--config', sealed], { env: { ...env, FLOTILLA_SECRETS_KEY: key } });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /plaintext/);

    const wrong = await runCli(['certs', 'issue', '--config', sealed], { env: { ...env, FLOTILLA_SECRETS_KEY: randomBytes(32).toString('base64') } });
    assert.equal(wrong.code, 2, wrong.stdout + wrong.stderr);
    assert.match(wrong.stderr, /sealed with key id [0-9a-f]{16} \(from FLOTILLA_SECRETS_KEY\), but FLOTILLA_SECRETS_KEY holds key id/);
    assert.doesNotMatch(wrong.stderr, /at .*\.ts:\d+/);
    const missing = await runCli(['certs', 'status', '--config', sealed], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /state\.secretsKeyEnv names FLOTILLA_SECRETS_KEY, which is not set/);
    const statusNoKey = await runCli(['status', '--config', plain], { env });
    assert.match(statusNoKey.stdout, /certificate: unknown \(.*sealed with the key in FLOTILLA_SECRETS_KEY \(id [0-9a-f]{16}\); set state\.secretsKeyEnv/);
  });
});
