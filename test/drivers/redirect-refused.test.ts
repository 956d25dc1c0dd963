/**
 * No DNS driver follows an HTTP redirect with its credentials: a real loopback API that answers 30x towards a
 * second real listener, which must never see a request (so never the key), and the driver reports an error
 * instead of "applied".
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Change } from '../../src/domain/records.ts';
import { createCloudflareDriver } from '../../src/drivers/cloudflare/cloudflare-driver.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { createHcloudDriver } from '../../src/drivers/hcloud/hcloud-driver.ts';
import { createPowerdnsDriver } from '../../src/drivers/powerdns/powerdns-driver.ts';
import { RedirectRefusedError } from '../../src/drivers/redirect-refused.ts';
import { assertNoSecretIn, errorOf } from '../support/secret-leaks.ts';

const KEY = 'pdns-key-Zq81Lm27Xv45Rt90';
const TOKEN = 'hc-token-Pw53Ns18Kd62Jf07';
const CF_TOKEN = 'cf-token-Ha71Qe39Lo84Wc26';

interface Listener { server: Server; url: string; seen: { method: string; path: string; headers: IncomingHttpHeaders }[] }

async function listen(handler: (l: Listener, path: string, res: import('node:http').ServerResponse) => void): Promise<Listener> {
  const l = { seen: [] } as unknown as Listener;
  l.server = createServer((req, res) => {
    l.seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    req.resume();
    handler(l, req.url ?? '', res);
  });
  await new Promise<void>((r) => l.server.listen(0, '127.0.0.1', r));
  l.url = `http://127.0.0.1:${(l.server.address() as AddressInfo).port}`;
  return l;
}

describe('drivers never follow a redirect with credentials', () => {
  let target: Listener;
  let api: Listener;
  let status = 302;
  let sameOrigin = false;

  before(async () => {
    // the redirect target answers like a happy PowerDNS/Hetzner would, so a driver that follows reports success
    target = await listen((_l, path, res) => {
      res.writeHead(path.includes('/zones/') && !path.includes('hcloud') ? 204 : 200, { 'content-type': 'application/json' });
      res.end(path.startsWith('/v1') ? JSON.stringify({ rrsets: [], zones: [], meta: { pagination: { next_page: null } } }) : '');
    });
    api = await listen((l, path, res) => {
      if (path.startsWith('/moved')) {
        res.writeHead(204);
        res.end();
        return;
      }
      const to = sameOrigin ? `${l.url}/moved${path}` : `http://user:${KEY}@127.0.0.1:${new URL(target.url).port}${path}?token=${TOKEN}`;
      res.writeHead(status, { location: to });
      res.end();
    });
  });
  after(async () => {
    for (const l of [api, target]) l?.server.closeAllConnections();
    await Promise.all([api, target].map((l) => l && new Promise((r) => l.server.close(r))));
  });

  const change: Change[] = [{ action: 'create', after: { name: 'www.example.test', type: 'A', ttl: 60, values: ['192.0.2.1'] } }];
  const drivers: [string, () => DnsDriver, string][] = [
    ['powerdns', () => createPowerdnsDriver({ name: 'pdns', settings: { url: api.url, apiKeyEnv: 'K', serverId: 'localhost' }, env: { K: KEY } }, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }), KEY],
    ['cloudflare', () => createCloudflareDriver({ name: 'cf', settings: { tokenEnv: 'C', baseUrl: api.url }, env: { C: CF_TOKEN } }), CF_TOKEN],
    ['hcloud', () => createHcloudDriver({ name: 'hc', settings: { tokenEnv: 'T', endpoint: api.url }, env: { T: TOKEN } }, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, actionPollMs: 1 }), TOKEN],
  ];

  for (const [kind, make, secret] of drivers) {
    for (const s of [301, 302, 303, 307, 308]) {
      it(`${kind}: HTTP ${s} to another listener is a RedirectRefusedError; the target never sees a request`, async () => {
        status = s;
        sameOrigin = false;
        target.seen.length = 0;
        api.seen.length = 0;
        const d = make();
        const errors = [await errorOf(d.applyChanges('example.test', change)), await errorOf(d.listRecords('example.test'))];
        for (const e of errors) {
          assert.ok(e instanceof RedirectRefusedError, `got ${String(e)}`);
          assert.equal(e.code, 'DRIVER_FAILED');
          assert.equal(e.retryable, false);
          assert.equal(e.status, s);
          assert.match(e.message, new RegExp(`redirect \\(HTTP ${s} to http://127\\.0\\.0\\.1:\\d+/`));
        }
        assertNoSecretIn(errors, [KEY, TOKEN, CF_TOKEN]);
        assert.deepEqual(target.seen, [], 'the redirect target saw a request');
        assert.equal(api.seen.length, 2, 'one request per call: a redirect is not retried');
      });
    }

    it(`${kind}: a redirect to another path of the same server is refused too (the key never goes there)`, async () => {
      status = 307;
      sameOrigin = true;
      api.seen.length = 0;
      const e = await errorOf(make().applyChanges('example.test', change));
      assert.ok(e instanceof RedirectRefusedError, String(e));
      assertNoSecretIn([e], [secret]);
      assert.deepEqual(api.seen.filter((r) => r.path.startsWith('/moved')), []);
    });
  }
});
