import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allUp, auth, post, startHarness, waitFor, type Harness } from './harness.ts';

describe('HTTP API', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await allUp(h);
  });
  after(() => h?.close());

  const overridesInStore = async () => (await h.store.load()).overrides;
  const overrideAudits = async () => (await h.store.audit()).filter((e) => e.kind === 'override');

  it('GET /api/status shows every mirror, the provider records and recent audit events', async () => {
    const res = await fetch(`${h.url}/api/status`);
    assert.equal(res.status, 200);
    const s = (await res.json()) as { mirrors: { name: string; state: string }[]; providers: { name: string; records: { type: string; values: string[] }[] }[]; audit: { kind: string }[] };
    assert.deepEqual(s.mirrors.map((m) => [m.name, m.state]), [['m0', 'up'], ['m1', 'up'], ['m2', 'up']]);
    const mem = s.providers.find((p) => p.name === 'memdns')!;
    assert.ok(mem.records.length > 0 && mem.records.every((r) => r.type === 'A' || r.type === 'AAAA'), 'only A/AAAA shown');
    assert.ok(s.audit.some((e) => e.kind === 'daemon'), 'the start of the controller is in the recent events');
  });

  it('refuses writes without a token or with a wrong one (401) and changes nothing', async () => {
    const before = { overrides: await overridesInStore(), audits: (await overrideAudits()).length, serving: h.controller.desired().serving };
    const body = { mirror: 'm1', reason: 'disk full' };
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${Buffer.from(`x:${h.token}`).toString('base64')}` }, { authorization: `Bearer ${h.token}x` }]) {
      for (const path of ['/api/drain', '/api/failover', '/api/undrain']) {
        const r = await post(h, path, body, headers);
        assert.equal(r.status, 401, `${path} with ${JSON.stringify(headers)}`);
        assert.match(String(r.body.error), /token|Bearer/);
      }
    }
    assert.deepEqual(await overridesInStore(), before.overrides);
    assert.equal((await overrideAudits()).length, before.audits);
    assert.deepEqual(h.controller.desired().serving, before.serving);
  });

  it('drain with the token saves an override, audits it and takes the mirror out at the provider', async () => {
    const r = await post(h, '/api/drain', { mirror: 'm1', reason: 'kernel upgrade', for: '2h' }, auth(h, 'ana'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const o = r.body.override as { id: string; kind: string; mirror: string; author: string; createdAt: number; expiresAt: number };
    assert.equal(o.kind, 'drain');
    assert.equal(o.author, 'ana');
    assert.equal(o.expiresAt - o.createdAt, 2 * 3600_000);
    const stored = await overridesInStore();
    assert.deepEqual(stored.map((x) => [x.id, x.mirror, x.reason]), [[o.id, 'm1', 'kernel upgrade']]);
    const audits = await overrideAudits();
    assert.equal(audits.at(-1)?.actor, 'ana');
    assert.match(audits.at(-1)!.message, /drained m1 .*kernel upgrade/);
    assert.deepEqual(r.body.serving, ['m0', 'm2']);
    // the answer does not wait for the reconcile; the provider follows within moments
    await waitFor('m1 out of the A record', () => h.driver.answer('example.test', 'A').join(',') === '127.0.0.11,127.0.0.13');
  });

  it('undrain removes it (author defaults to api) and the mirror comes back', async () => {
    const r = await post(h, '/api/undrain', { mirror: 'm1', wait: true }, auth(h));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.changed, true);
    assert.deepEqual((r.body.reconcile as { serving: string[] }).serving, ['m0', 'm1', 'm2']);
    assert.deepEqual(await overridesInStore(), []);
    assert.equal((await overrideAudits()).at(-1)?.actor, 'api');
    assert.deepEqual(h.driver.answer('example.test', 'A'), ['127.0.0.11', '127.0.0.12', '127.0.0.13']);
    const again = await post(h, '/api/undrain', { mirror: 'm1' }, auth(h));
    assert.equal(again.status, 200);
    assert.equal(again.body.changed, false);
  });

  it('an unknown mirror is a 400 that lists the known mirrors', async () => {
    const r = await post(h, '/api/drain', { mirror: 'm9', reason: 'x' }, auth(h));
    assert.equal(r.status, 400);
    assert.match(String(r.body.error), /unknown mirror "m9".*m0, m1, m2/);
    assert.deepEqual(r.body.mirrors, ['m0', 'm1', 'm2']);
  });

  it('bad bodies are 400 with a clear message, and nothing is written', async () => {
    const n = (await overrideAudits()).length;
    const cases: [unknown, RegExp][] = [
      [{ mirror: 'm1' }, /reason/],
      [{ mirror: 'm1', reason: '   ' }, /reason/],
      [{ mirror: 'm1', reason: 'x', for: 'soon' }, /not a duration/],
      [{ mirror: 'm1', reason: 'x', force: 'yes' }, /force/],
      [{ mirror: 'm1', reason: 'x', extra: 1 }, /extra/],
      ['{not json', /not valid JSON/],
      [[1, 2], /body/],
    ];
    for (const [body, msg] of cases) {
      const r = await post(h, '/api/drain', body, auth(h));
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(String(r.body.error), msg, JSON.stringify(body));
    }
    assert.equal((await overrideAudits()).length, n);
    assert.deepEqual(await overridesInStore(), []);
  });

  it('draining the last serving mirror is a 409 unless forced', async () => {
    assert.equal((await post(h, '/api/drain', { mirror: 'm0', reason: 'a' }, auth(h))).status, 200);
    assert.equal((await post(h, '/api/drain', { mirror: 'm1', reason: 'b' }, auth(h))).status, 200);
    const r = await post(h, '/api/drain', { mirror: 'm2', reason: 'c' }, auth(h));
    assert.equal(r.status, 409);
    assert.match(String(r.body.error), /last serving mirror/);
    assert.equal((await overridesInStore()).length, 2);
    const forced = await post(h, '/api/drain', { mirror: 'm2', reason: 'c', force: true }, auth(h));
    assert.equal(forced.status, 200);
    assert.deepEqual(h.controller.desired().serving, ['m0', 'm1', 'm2'], 'a drain of every mirror yields: the answer is never empty');
    for (const m of ['m0', 'm1', 'm2']) assert.equal((await post(h, '/api/undrain', { mirror: m }, auth(h))).status, 200);
  });

  it('failover sends everything to one mirror; clear ends it', async () => {
    const r = await post(h, '/api/failover', { mirror: 'm2', reason: 'region outage', wait: true }, auth(h, 'bo'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(h.driver.answer('example.test', 'A'), ['127.0.0.13']);
    const c = await post(h, '/api/clear', { mirror: 'm2', wait: true }, auth(h, 'bo'));
    assert.equal(c.status, 200);
    assert.deepEqual(h.driver.answer('example.test', 'A'), ['127.0.0.11', '127.0.0.12', '127.0.0.13']);
  });

  it('GET /api/history?since= returns audit events from then on; a bad since is a 400', async () => {
    const t = Date.now();
    await post(h, '/api/drain', { mirror: 'm0', reason: 'history' }, auth(h));
    await post(h, '/api/undrain', { mirror: 'm0' }, auth(h));
    const res = await fetch(`${h.url}/api/history?since=${t}`);
    const j = (await res.json()) as { events: { at: number; kind: string }[] };
    assert.ok(j.events.length >= 2 && j.events.every((e) => e.at >= t), `events since ${t}: ${JSON.stringify(j.events)}`);
    assert.deepEqual(j.events.filter((e) => e.kind === 'override').length, 2);
    assert.equal((await fetch(`${h.url}/api/history?since=yesterday`)).status, 400);
  });

  it('unknown paths are 404, wrong methods 405, /healthz answers', async () => {
    assert.equal((await fetch(`${h.url}/nope`)).status, 404);
    assert.equal((await fetch(`${h.url}/api/drain`)).status, 405);
    const hz = await fetch(`${h.url}/healthz`);
    assert.equal(hz.status, 200);
    assert.equal(((await hz.json()) as { ok: boolean }).ok, true);
  });
});

describe('HTTP API without a configured token', () => {
  it('is read-only: every write is a 401 naming the setting, never the variable', async () => {
    const h = await startHarness({ token: null, spec: { server: { listen: '127.0.0.1', port: 0, tokenEnv: 'FLOTILLA_OPS_TOKEN_VAR' } } });
    try {
      const r = await post(h, '/api/drain', { mirror: 'm1', reason: 'x' }, { authorization: 'Bearer anything' });
      assert.equal(r.status, 401);
      assert.match(String(r.body.error), /no token configured.*server\.tokenEnv/);
      assert.ok(!JSON.stringify(r.body).includes('FLOTILLA_OPS_TOKEN_VAR'), JSON.stringify(r.body));
      const r2 = await post(h, '/api/drain', { mirror: 'm1', reason: 'x' }, { authorization: 'Bearer ' });
      assert.equal(r2.status, 401);
      assert.deepEqual((await h.store.load()).overrides, []);
      assert.equal((await fetch(`${h.url}/api/status`)).status, 200, 'reads stay open');
    } finally {
      await h.close();
    }
  });
});
