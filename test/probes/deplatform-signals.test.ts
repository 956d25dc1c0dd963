/**
 * Deplatforming signs seen by the real HttpProbe against real local HTTP(S) servers: HTTP 451, a host's suspension
 * page (status 200!), a certificate from another issuer. Each is "deplatformed", not a plain failure.
 */
import assert from 'node:assert/strict';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fleetSchema } from '../../src/config/fleet-schema.ts';
import { deplatformSign, evaluateResponse, SUSPENSION_SCAN_BYTES } from '../../src/probes/probe-conditions.ts';
import { HttpProbe } from '../../src/probes/http-probe.ts';
import { probeTargetFor } from '../../src/probes/probe-target.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { makeSelfSignedCert } from '../support/mirror-server.ts';
import { never, targetFor, tempSite } from './helpers.ts';

const SUSPENDED = '<html><h1>Account Suspended</h1><p>This account has been suspended. Contact your hosting provider.</p></html>';
const PATTERNS = ['This account has been suspended', '/site (has been )?(disabled|removed) by (the )?administrator/i'];

function handler(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
  if (req.url === '/legal') return res.writeHead(451, { 'content-type': 'text/plain', link: '<https://example.net/authority>; rel="blocked-by"' }).end('Unavailable For Legal Reasons\n');
  if (req.url === '/suspended') return res.writeHead(200, { 'content-type': 'text/html' }).end(SUSPENDED);
  if (req.url === '/disabled') return res.writeHead(503, { 'content-type': 'text/html' }).end('<p>This Site Has Been Disabled By The Administrator</p>');
  if (req.url === '/down') return res.writeHead(503).end('maintenance\n');
  res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Welcome</h1>');
}

describe('deplatforming signs through the real HttpProbe', () => {
  let http: Server;
  let https: Server;
  let site: Awaited<ReturnType<typeof tempSite>>;
  const probe = new HttpProbe();
  const listen = async (s: Server) => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };
  let httpPort = 0;
  let httpsPort = 0;

  before(async () => {
    site = await tempSite();
    const cert = await makeSelfSignedCert({ dir: site.dir, commonName: 'example.test', days: 30 });
    http = createHttp(handler);
    https = createHttps({ cert: await readFile(cert.certFile), key: await readFile(cert.keyFile) }, handler);
    httpPort = await listen(http);
    httpsPort = await listen(https);
  });
  after(async () => {
    await probe.close();
    http.closeAllConnections();
    https.closeAllConnections();
    await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => https.close(r))]);
    await site.cleanup();
  });

  it('HTTP 451 is deplatformed (always, no setting needed)', async () => {
    const r = await probe.run(targetFor('127.0.0.1', httpPort, { path: '/legal' }), never);
    assert.equal(r.ok, false);
    assert.equal(r.status, 451);
    assert.equal(r.deplatformed, 'HTTP 451 Unavailable For Legal Reasons');
    assert.match(r.reason, /^deplatformed: HTTP 451/);
  });

  it('a suspension page is deplatformed even with status 200 (substring and /regex/i patterns)', async () => {
    const r = await probe.run(targetFor('127.0.0.1', httpPort, { path: '/suspended', suspensionPatterns: PATTERNS }), never);
    assert.equal(r.ok, false);
    assert.match(r.deplatformed ?? '', /^suspension page \(matches "This account has been suspended"\)/);
    const d = await probe.run(targetFor('127.0.0.1', httpPort, { path: '/disabled', suspensionPatterns: PATTERNS }), never);
    assert.match(d.deplatformed ?? '', /suspension page/);
    // without patterns the same page is only a status / content question
    const plain = await probe.run(targetFor('127.0.0.1', httpPort, { path: '/suspended' }), never);
    assert.equal(plain.ok, true);
    assert.equal(plain.deplatformed, undefined);
  });

  it('a plain 503 is down, not deplatformed', async () => {
    const r = await probe.run(targetFor('127.0.0.1', httpPort, { path: '/down', suspensionPatterns: PATTERNS }), never);
    assert.equal(r.ok, false);
    assert.equal(r.deplatformed, undefined);
    assert.match(r.reason, /^status 503/);
  });

  it('a certificate from another issuer than expected is deplatformed; the expected issuer passes', async () => {
    const other = await probe.run(targetFor('127.0.0.1', httpsPort, { scheme: 'https', expectedIssuer: "Let's Encrypt" }), never);
    assert.equal(other.ok, false);
    assert.match(other.deplatformed ?? '', /^certificate issued by CN=example\.test.*expected "Let's Encrypt"/);
    const same = await probe.run(targetFor('127.0.0.1', httpsPort, { scheme: 'https', expectedIssuer: 'example.test' }), never);
    assert.equal(same.reason, 'ok');
  });
});

describe('deplatforming signs: pure rules and the stack schema', () => {
  it('patterns are matched in the first 64 KiB only (a bounded cost per probe)', () => {
    const t = targetFor('127.0.0.1', 80, { suspensionPatterns: ['suspended'] });
    const far = `${'x'.repeat(SUSPENSION_SCAN_BYTES)}suspended`;
    assert.equal(deplatformSign(t, { status: 200, text: far }), undefined);
    assert.ok(deplatformSign(t, { status: 200, text: 'account suspended' }));
    const v = evaluateResponse(t, { status: 200, text: 'account suspended', truncated: false, capBytes: 1 << 20, latencyMs: 1, now: 0 });
    assert.equal(v.ok, false);
    assert.equal(v.deplatformed, 'suspension page (matches "suspended")');
  });

  it('the probe target carries the fleet\'s signs, and a mirror\'s own override', () => {
    const spec = fleetFixture({ health: { ...fleetFixture().health, deplatform: { patterns: ['suspended'], expectedIssuer: 'R3' } } });
    const t = probeTargetFor(spec, spec.mirrors[0]);
    assert.deepEqual([t.suspensionPatterns, t.expectedIssuer], [['suspended'], 'R3']);
    const own = probeTargetFor(spec, { ...spec.mirrors[1], health: { deplatform: { patterns: ['gone'] } } });
    assert.deepEqual([own.suspensionPatterns, own.expectedIssuer], [['gone'], undefined]);
  });

  it('the stack schema bounds the patterns and compiles regexes', () => {
    const base = { site: { name: 's', contentDir: 'site' }, domain: 'example.org', mirrors: [{ name: 'a', provider: 'local', ipv4: '127.0.0.2' }], dnsProviders: [{ name: 'e', kind: 'local' }] };
    const parse = (deplatform: unknown) => fleetSchema.safeParse({ ...base, health: { deplatform } });
    assert.ok(parse({ patterns: PATTERNS, expectedIssuer: "Let's Encrypt" }).success);
    const bad = parse({ patterns: ['/(unclosed/'] });
    assert.ok(!bad.success && bad.error.issues.some((i) => i.path.join('.') === 'health.deplatform.patterns.0' && /regular expression/.test(i.message)));
    assert.ok(!parse({ patterns: Array.from({ length: 21 }, (_, i) => `p${i}`) }).success, 'at most 20 patterns');
    assert.ok(!parse({ patterns: ['x'.repeat(201)] }).success, 'at most 200 characters');
    assert.ok(!parse({ pattern: ['typo'] }).success, 'unknown keys are refused');
  });
});
