import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { escapeHtml, scriptSafeJson } from '../../src/server/status-page.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { auth, post, startHarness, waitFor, type Harness } from './harness.ts';

export const EVIL_REASON = '<img src=x onerror=alert(1)>';
export const EVIL_MIRROR = 'evil<svg onload=alert(3)>';
export const EVIL_STACK = '<script>alert(4)</script>';

describe('status page HTML', () => {
  let h: Harness;
  before(async () => {
    const mirrors = fleetFixture({}, 3).mirrors;
    mirrors[2] = { ...mirrors[2], name: EVIL_MIRROR };
    h = await startHarness({ spec: { stack: EVIL_STACK, mirrors } });
    h.probe.fail('m1', EVIL_REASON);
    await waitFor('m1 down', () => h.controller.health.m1?.state === 'down');
    const r = await post(h, '/api/drain', { mirror: EVIL_MIRROR, reason: `</script>${EVIL_REASON}` }, auth(h, '<b>eve</b>'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });
  after(() => h?.close());

  it('never puts a name, reason or author into the page as markup', async () => {
    const res = await fetch(h.url + '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
    const html = await res.text();
    assert.doesNotMatch(html, /<img/i, 'no img element from a probe reason');
    assert.doesNotMatch(html, /<svg/i, 'no svg element from a mirror name');
    assert.doesNotMatch(html, /<b>eve/i, 'no markup from an author header');
    assert.equal(html.match(/<script\b/gi)?.length, 2, 'only the page’s own two script elements');
    assert.equal(html.match(/<\/script>/gi)?.length, 2, 'no early </script> from a reason');
    assert.match(html, /<title>flotilla · &lt;script&gt;alert\(4\)&lt;\/script&gt;/);
    // and the data survives the trip: the embedded JSON parses back to the very same strings
    const json = /<script id="initial" type="application\/json">(.*?)<\/script>/s.exec(html)![1];
    const snap = JSON.parse(json) as { stack: string; mirrors: { name: string; lastReason?: string }[]; overrides: { reason: string; author: string }[] };
    assert.equal(snap.stack, EVIL_STACK);
    assert.equal(snap.mirrors.find((m) => m.name === 'm1')?.lastReason, EVIL_REASON);
    assert.ok(snap.mirrors.some((m) => m.name === EVIL_MIRROR), 'the evil mirror is listed');
    assert.equal(snap.overrides[0].reason, `</script>${EVIL_REASON}`);
    assert.equal(snap.overrides[0].author, '<b>eve</b>');
  });

  it('sends a Content-Security-Policy that lets only its own nonce’d script run', async () => {
    const res = await fetch(h.url + '/');
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, `a nonce in ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline'[^;]*;?\s*$|script-src[^;]*unsafe-inline/, 'no inline script allowed besides the nonce');
    const html = await res.text();
    assert.ok(html.includes(`<script nonce="${nonce}">`), 'the page script carries the nonce');
    const again = (await fetch(h.url + '/')).headers.get('content-security-policy');
    assert.notEqual(again, csp, 'a fresh nonce per response');
  });

  it('escapeHtml and scriptSafeJson cover the dangerous characters', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    const s = scriptSafeJson({ a: '</script><!-- \u2028 & >' });
    assert.doesNotMatch(s, /[<>&\u2028]/);
    assert.deepEqual(JSON.parse(s), { a: '</script><!-- \u2028 & >' });
  });
});
