/**
 * Errors of the provider SDKs and APIs quote URLs (a proxy's address, a signed link) that may carry credentials: a
 * DriverError never does. Each driver here talks to a stand-in server on 127.0.0.1 that answers every request with an
 * error whose text quotes `http://user:SECRET@...?token=SECRET`, through the driver's own client (official SDK where
 * there is one).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import { createCloudflareDriver } from '../../src/drivers/cloudflare/cloudflare-driver.ts';
import { createHcloudDriver } from '../../src/drivers/hcloud/hcloud-driver.ts';
import { createPowerdnsDriver } from '../../src/drivers/powerdns/powerdns-driver.ts';
import { createRoute53Driver } from '../../src/drivers/route53/route53-driver.ts';
import { assertNoSecretIn, errorOf } from '../support/secret-leaks.ts';

const SECRET = 'pr0xy-S3cret-9f8e7d';
const QUOTED = `upstream http://proxyuser:${SECRET}@127.0.0.1:3128/api?token=${SECRET} refused the request`;

describe('driver errors carrying a URL with credentials', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (req.url?.startsWith('/2013-04-01/')) {
        // Route 53's XML error shape
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(`<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>InvalidInput</Code><Message>${QUOTED.replace(/&/g, '&amp;')}</Message></Error><RequestId>r1</RequestId></ErrorResponse>`);
        return;
      }
      res.writeHead(400, { 'content-type': 'application/json' });
      if (req.url?.startsWith('/api/v1/servers')) return void res.end(JSON.stringify({ error: QUOTED })); // PowerDNS
      // Cloudflare's errors[] and Hetzner's error{}
      res.end(JSON.stringify({ success: false, errors: [{ code: 1004, message: QUOTED }], error: { code: 'invalid_input', message: QUOTED }, result: null }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const fast = { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } };
  const drivers = () => [
    createCloudflareDriver({ name: 'cf', settings: { tokenEnv: 'T', baseUrl: base }, env: { T: 'api-token-0123456789abcdef' } }, fast),
    createRoute53Driver({ name: 'r53', settings: { accessKeyIdEnv: 'K', secretAccessKeyEnv: 'S', region: 'us-east-1', endpoint: base }, env: { K: 'AKIAEXAMPLE', S: 'aws-secret-0123456789abcdef' } } as never, fast as never),
    createHcloudDriver({ name: 'hc', settings: { tokenEnv: 'T', endpoint: base }, env: { T: 'api-token-0123456789abcdef' } } as never, fast as never),
    createPowerdnsDriver({ name: 'pdns', settings: { url: base, apiKeyEnv: 'K', serverId: 'localhost' }, env: { K: 'pdns-key-0123456789abcdef' } }),
  ];

  it('no driver error names the secret; each still says what failed', async () => {
    for (const d of drivers()) {
      const e = await errorOf(d.listRecords('example.com'));
      assert.ok(e instanceof DriverError, `${d.kind}: ${String(e)}`);
      assertNoSecretIn([e], [SECRET]);
      assert.match((e as Error).message, /\*\*\*/, `${d.kind} lost the redacted quote: ${(e as Error).message}`);
    }
  });
});
