import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's `pebble` (Let's Encrypt's test CA) on 127.0.0.1 for `flotilla demo`: a listener certificate made with
 * openssl, DNS-01 answered by `dnsServer`. Undefined when pebble or openssl is not installed (the demo says so).
 */
export interface LocalPebble {
  directoryUrl: string;
  /** The management interface (`/roots/0` serves the root that signs issued certificates). */
  managementUrl: string;
  pid: number;
  /** pebble's output so far (tests). */
  log(): string;
  /** PEM of the CA of pebble's own HTTPS listener (trusted only for talking ACME to it). */
  listenerCa: string;
  stop(): Promise<void>;
}

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

export async function startLocalPebble(dnsServer: string, opts: { spawn?: typeof spawn } = {}): Promise<LocalPebble | undefined> {
  if (!has('pebble') || !has('openssl')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-pebble-'));
  const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=flotilla demo ACME listener CA', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem')]);
  ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'req.pem')]);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(['x509', '-req', '-in', join(dir, 'req.pem'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', join(dir, 'ext.cnf'), '-out', join(dir, 'cert.pem')]);
  const [port, mgmt, httpPort, tlsPort] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify({ pebble: { listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${mgmt}`, certificate: join(dir, 'cert.pem'), privateKey: join(dir, 'key.pem'), httpPort, tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false } }));
  const child: ChildProcess = (opts.spawn ?? spawn)('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', dnsServer], { env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b) => (out = (out + b).slice(-20_000)));
  child.stderr?.on('data', (b) => (out = (out + b).slice(-20_000)));
  // the demo may end any way (Ctrl-C, an error): pebble never outlives it
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  const listenerCa = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const agent = new Agent({ ca: listenerCa });
  const stop = async () => {
    process.off('exit', onExit);
    agent.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const req = request(directoryUrl, { agent }, (res) => { res.resume(); resolve(res.statusCode === 200); });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (up) return { directoryUrl, managementUrl: `https://127.0.0.1:${mgmt}`, pid: child.pid!, log: () => out, listenerCa, stop };
    if (child.exitCode !== null || i > 200) {
      await stop();
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
