/**
 * Debian's `pebble` (Let's Encrypt's test CA) for tests: runs in the foreground on 127.0.0.1 with free ports and a
 * listener certificate made here by openssl, asking `dnsServer` (host:port) for every DNS-01 TXT it validates.
 * PEBBLE_VA_NOSLEEP=1 (no random validation delay) and PEBBLE_WFE_NONCEREJECT=0 (no injected bad nonces).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked, stopChild } from './child-processes.ts';
import { ensurePackages } from './ensure-packages.ts';
import { freePort } from './ports.ts';

export interface PebbleServer {
  /** The ACME directory URL (`https://127.0.0.1:PORT/dir`). */
  directoryUrl: string;
  /** PEM of the CA that signed pebble's own listener (trust it to talk ACME). */
  listenerCa: string;
  /** The root that signs issued certificates (from the management endpoint /roots/0). */
  root(): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}

export async function startPebble(o: { dnsServer: string }): Promise<PebbleServer> {
  ensurePackages({ pebble: 'pebble', openssl: 'openssl' });
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-pebble-'));
  // a CA and a 127.0.0.1 certificate it signs, for pebble's HTTPS listeners
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=flotilla test listener CA', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem')], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'req.pem')], { stdio: 'ignore' });
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  execFileSync('openssl', ['x509', '-req', '-in', join(dir, 'req.pem'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', join(dir, 'ext.cnf'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const port = await freePort();
  let mgmt = await freePort();
  while (mgmt === port) mgmt = await freePort();
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${mgmt}`,
      certificate: join(dir, 'cert.pem'),
      privateKey: join(dir, 'key.pem'),
      // HTTP-01/TLS-ALPN-01 targets: never used (DNS-01 only), pointed at loopback ports nothing listens on
      httpPort: await freePort(),
      tlsPort: await freePort(),
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  };
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify(config));
  const child = spawnTracked('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', o.dnsServer], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const listenerCa = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const agent = new Agent({ ca: listenerCa });
  const get = (url: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, { agent }, (res) => {
        let body = '';
        res.on('data', (b) => (body += b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pebble exited at start:\n${out}`);
    const ok = await get(directoryUrl).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`pebble did not answer ${directoryUrl} within 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    directoryUrl,
    listenerCa,
    async root() {
      const r = await get(`https://127.0.0.1:${mgmt}/roots/0`);
      if (r.status !== 200) throw new Error(`pebble /roots/0 answered ${r.status}`);
      return r.body;
    },
    log: () => out,
    async stop() {
      agent.destroy();
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
