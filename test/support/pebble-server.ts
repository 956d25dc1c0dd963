/**
 * Debian's `pebble` (Let's Encrypt's test CA) for tests: the demo's own starter (src/certs/local-pebble.ts: 127.0.0.1,
 * free ports, a listener certificate made by openssl, PEBBLE_VA_NOSLEEP=1, PEBBLE_WFE_NONCEREJECT=0), with the
 * process under the tests' safety net and the management endpoint's root at hand.
 */
import { Agent, request } from 'node:https';
import { startLocalPebble } from '../../src/certs/local-pebble.ts';
import { spawnTracked } from './child-processes.ts';
import { ensurePackages } from './ensure-packages.ts';

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
  const p = await startLocalPebble(o.dnsServer, { spawn: spawnTracked });
  if (!p) throw new Error('pebble did not start (is it installed?)');
  return {
    directoryUrl: p.directoryUrl,
    listenerCa: p.listenerCa,
    log: p.log,
    stop: p.stop,
    root: () =>
      new Promise<string>((resolve, reject) => {
        const agent = new Agent({ ca: p.listenerCa });
        const req = request(`${p.managementUrl}/roots/0`, { agent }, (res) => {
          let body = '';
          res.on('data', (b) => (body += b));
          res.on('end', () => {
            agent.destroy();
            if (res.statusCode === 200) resolve(body);
            else reject(new Error(`pebble /roots/0 answered ${res.statusCode}`));
          });
        });
        req.on('error', reject);
        req.end();
      }),
  };
}
