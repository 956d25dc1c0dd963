import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/ports.ts';
import { REPO, runCli, type CliResult } from '../support/run-cli.ts';

/** `flotilla daemon` whose ports are taken: a clear error naming the setting, exit 2, no stack trace, no process left. */
describe('flotilla daemon: an address it cannot listen on', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-listen-'));
  let tcp: Server | undefined;
  let udp: Socket | undefined;
  let httpPort = 0;
  let dnsPort = 0;

  const stack = (o: { dnsListen?: string; dnsPort: number; httpPort: number }) => {
    writeFileSync(
      join(dir, 'stacks', 'Pulumi.l.yaml'),
      `config:
  flotilla:fleet:
    site: { name: l, contentDir: ${join(REPO, 'site')} }
    domain: listen.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.71 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: "${o.dnsListen ?? '127.0.0.1'}", port: ${o.dnsPort} } }
    health: { interval: 250ms, timeout: 200ms }
    state: { path: ${join(dir, 'state')} }
    server: { listen: 127.0.0.1, port: ${o.httpPort} }
`,
    );
  };
  const daemon = () => runCli(['daemon', '--stack', 'l'], { cwd: dir, timeoutMs: 30_000 });
  const assertListenError = (r: CliResult, path: string, ...needles: string[]) => {
    assert.equal(r.code, 2, `exit code\n${r.stdout}\n${r.stderr}`);
    assert.ok(r.stderr.includes('Pulumi.l.yaml'), `names the file:\n${r.stderr}`);
    assert.ok(r.stderr.includes(`flotilla:fleet.${path}`), `names the setting ${path}:\n${r.stderr}`);
    for (const n of needles) assert.ok(r.stderr.includes(n), `stderr lacks ${JSON.stringify(n)}:\n${r.stderr}`);
    assert.ok(!/\n\s+at .*:\d+:\d+/.test(r.stderr), `stack trace printed:\n${r.stderr}`);
    assert.ok(!/unexpected error/.test(r.stderr), r.stderr);
  };

  before(async () => {
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    httpPort = await freePort();
    dnsPort = await freePort();
    tcp = createServer();
    await new Promise<void>((resolve) => tcp!.listen(httpPort, '127.0.0.1', resolve));
    udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp!.bind(dnsPort, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((r) => tcp?.close(r));
    await new Promise<void>((r) => (udp ? udp.close(r) : r()));
  });

  it('the status page port in use by another process', async () => {
    stack({ dnsPort: await freePort(), httpPort });
    assertListenError(await daemon(), 'server.port', `127.0.0.1:${httpPort}`, 'already in use', 'choose another port');
  });

  it('the embedded DNS server port in use by another process', async () => {
    stack({ dnsPort, httpPort: await freePort() });
    assertListenError(await daemon(), 'dnsProviders[0].settings.port', `127.0.0.1:${dnsPort}`, 'already in use');
  });

  it('a listen address that is not an IP address is refused before anything starts', async () => {
    stack({ dnsListen: 'dns.example.org', dnsPort: await freePort(), httpPort: await freePort() });
    const r = await daemon();
    assertListenError(r, 'dnsProviders[0].settings.listen', 'expected an IP address');
    assert.equal(r.stdout, '', 'nothing started');
  });
});
