/**
 * etcd endpoints and answers never bring a URL's userinfo or token into a message: endpoints given in code (specs
 * built without the stack schema, which refuses them) and error text from a member or a proxy in front of it.
 * No etcd is needed: a refused port and a stand-in member on 127.0.0.1 that answers 503 quoting a credentialed URL.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FlotillaError } from '../../src/domain/errors.ts';
import { EtcdStateStore } from '../../src/state/etcd-state-store.ts';
import { StateUnavailableError } from '../../src/state/state-unavailable-error.ts';
import { freePort } from '../support/ports.ts';
import { assertNoSecretIn, errorOf } from '../support/secret-leaks.ts';

const SECRET = 'etcd-pw-4Kc9Tq';

describe('etcd state store errors', () => {
  let member: Server;
  let port: number;
  before(async () => {
    member = createServer((req, res) => {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 14, message: `proxy: upstream http://root:${SECRET}@127.0.0.1:${port}/v3?password=${SECRET} has no leader` }));
    });
    await new Promise<void>((r) => member.listen(0, '127.0.0.1', r));
    port = (member.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => member.close(() => r())));

  it('an endpoint with userinfo that fails: the error names the endpoint without it', async () => {
    const dead = await freePort();
    const store = new EtcdStateStore({ endpoints: [`http://user:${SECRET}@127.0.0.1:${dead}`, `http://user:${SECRET}@127.0.0.1:${port}`], prefix: '/t/', timeoutMs: 2000 });
    const e = await errorOf(store.load());
    assert.ok(e instanceof StateUnavailableError, String(e));
    assertNoSecretIn([e, e.attempts], [SECRET]);
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${dead} \\(connection refused\\)`));
    assert.match(e.message, /has no leader/);
  });

  it('an endpoint that is not a URL is refused (exit 2) without echoing its password', async () => {
    const e = await errorOf((async () => new EtcdStateStore({ endpoints: [`http://user:${SECRET}@[::1`], prefix: '/t/' }))());
    assert.ok(e instanceof FlotillaError && e.exitCode === 2, String(e));
    assertNoSecretIn([e], [SECRET]);
  });
});
