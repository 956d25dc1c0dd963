import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileBodyMatch, evaluateResponse, latencyReason, type Observation } from '../../src/probes/probe-conditions.ts';
import { targetFor } from './helpers.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 1);
const DIGEST = 'ab'.repeat(32);
const obs = (o: Partial<Observation> = {}): Observation => ({
  status: 200,
  digest: DIGEST,
  text: 'Welcome to the site, build 42',
  truncated: false,
  capBytes: 2 * 1024 * 1024,
  latencyMs: 12,
  now: NOW,
  ...o,
});
const tgt = targetFor('192.0.2.1', 80, { expectedDigest: DIGEST });

describe('evaluateResponse', () => {
  it('is ok when every condition holds', () => {
    assert.deepEqual(evaluateResponse(tgt, obs()), { ok: true, reason: 'ok' });
  });

  it('checks the status against every accepted code', () => {
    assert.equal(evaluateResponse(tgt, obs({ status: 503 })).reason, 'status 503 (expected 200)');
    assert.equal(evaluateResponse({ ...tgt, expectStatus: [200, 301] }, obs({ status: 301 })).ok, true);
    assert.equal(evaluateResponse({ ...tgt, expectStatus: [200, 301] }, obs({ status: 302 })).reason, 'status 302 (expected 200 or 301)');
  });

  it('compares the digest (case-insensitively on the expected side) and refuses a truncated body', () => {
    assert.equal(evaluateResponse(tgt, obs({ digest: 'cd'.repeat(32) })).reason, 'content digest mismatch (got cdcdcdcd.., expected abababab..)');
    assert.equal(evaluateResponse({ ...tgt, expectedDigest: DIGEST.toUpperCase() }, obs()).ok, true);
    assert.equal(evaluateResponse(tgt, obs({ truncated: true, digest: undefined })).reason, 'body larger than the 2 MiB read cap: digest not checked');
    assert.equal(evaluateResponse({ ...tgt, expectedDigest: undefined }, obs({ truncated: true, digest: undefined })).ok, true);
  });

  it('matches the body by substring, by /regex/flags, and words an invalid regex', () => {
    const b = (bodyMatch: string, o: Partial<Observation> = {}) => evaluateResponse({ ...tgt, bodyMatch }, obs(o)).reason;
    assert.equal(b('build 42'), 'ok');
    assert.equal(b('build 43'), 'body does not match "build 43"');
    assert.equal(b('/build \\d+$/'), 'ok');
    assert.equal(b('/^build/'), 'body does not match /^build/');
    assert.equal(b('/welcome/i'), 'ok');
    assert.equal(b('/usr/bin'), 'body does not match "/usr/bin"'); // not regex form: "bin" is no flag set
    assert.match(b('/(/'), /^invalid bodyMatch \/\(\/: /);
    assert.equal(b('nope', { truncated: true, digest: undefined, text: 'x' }), 'body larger than the 2 MiB read cap: digest not checked');
    assert.equal(evaluateResponse({ ...tgt, expectedDigest: undefined, bodyMatch: 'nope' }, obs({ truncated: true, text: 'x' })).reason, 'body does not match "nope" (first 2 MiB read)');
  });

  it('regexes are stateless between probes (no g/y flags accepted)', () => {
    const m = compileBodyMatch('/a/');
    assert.ok('regex' in m && m.regex && !m.regex.global && !m.regex.sticky);
    assert.deepEqual(compileBodyMatch('/a/g'), { text: '/a/g' });
    for (let i = 0; i < 3; i++) assert.equal(evaluateResponse({ ...tgt, bodyMatch: '/build/' }, obs()).ok, true);
  });

  it('checks TLS expiry in whole days left, rounded down, and always fails an expired certificate', () => {
    const https = { ...tgt, scheme: 'https' as const, tlsMinDays: 7 };
    assert.deepEqual(evaluateResponse(https, obs({ tlsValidTo: NOW + 3 * DAY - 1000 })), {
      ok: false,
      reason: 'TLS certificate expires in 2 days (minimum 7)',
      tlsDaysLeft: 2,
    });
    assert.deepEqual(evaluateResponse(https, obs({ tlsValidTo: NOW + 7 * DAY })), { ok: true, reason: 'ok', tlsDaysLeft: 7 });
    assert.equal(evaluateResponse(https, obs({ tlsValidTo: NOW + 7 * DAY - 1 })).ok, false);
    assert.equal(evaluateResponse(https, obs({ tlsValidTo: NOW + DAY + 5 })).reason, 'TLS certificate expires in 1 day (minimum 7)');
    const zero = { ...https, tlsMinDays: 0 };
    assert.equal(evaluateResponse(zero, obs({ tlsValidTo: NOW + 1000 })).ok, true);
    assert.equal(evaluateResponse(zero, obs({ tlsValidTo: NOW - 2 * DAY - 5 })).reason, 'TLS certificate expired 2 days ago');
    assert.equal(evaluateResponse(zero, obs({ tlsValidTo: undefined })).reason, 'TLS certificate not seen');
    // plain http ignores certificates
    assert.deepEqual(evaluateResponse(tgt, obs({ tlsValidTo: NOW - DAY })), { ok: true, reason: 'ok' });
  });

  it('applies the latency budget last', () => {
    const b = { ...tgt, latencyBudgetMs: 800 };
    assert.equal(evaluateResponse(b, obs({ latencyMs: 900.4 })).reason, 'slow: 900ms > budget 800ms');
    assert.equal(evaluateResponse(b, obs({ latencyMs: 800 })).ok, true);
    assert.equal(evaluateResponse(b, obs({ latencyMs: 900, status: 500 })).reason, 'status 500 (expected 200)');
    assert.equal(latencyReason({}, 1e9), undefined);
  });

  it('reports the first failing condition in a fixed order: status, digest, body, TLS, latency', () => {
    const all = { ...tgt, scheme: 'https' as const, bodyMatch: 'zzz', latencyBudgetMs: 1 };
    const bad = { tlsValidTo: NOW + DAY, latencyMs: 50, text: 'nothing' };
    assert.match(evaluateResponse(all, obs({ ...bad, status: 404, digest: 'cd'.repeat(32) })).reason, /^status/);
    assert.match(evaluateResponse(all, obs({ ...bad, digest: 'cd'.repeat(32) })).reason, /^content digest/);
    assert.match(evaluateResponse(all, obs(bad)).reason, /^body does not match/);
    assert.match(evaluateResponse({ ...all, bodyMatch: 'noth' }, obs(bad)).reason, /^TLS certificate expires/);
    assert.match(evaluateResponse({ ...all, bodyMatch: 'noth', tlsMinDays: 0 }, obs(bad)).reason, /^slow/);
  });
});
