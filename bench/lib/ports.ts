/** One TCP port free on several loopback addresses at once (gdnsd and ifurlup probe every address on one port). */
import { createServer } from 'node:net';
import { freePort } from '../../test/support/ports.ts';

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

export async function commonFreePort(hosts: readonly string[]): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort(hosts[0]);
    const ok = await Promise.all(hosts.map((h) => canListen(h, port)));
    if (ok.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`);
}
