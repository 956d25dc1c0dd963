import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAlerts } from '../../src/controller/alerts.ts';
import { allUp, startHarness, waitFor, type Harness } from './harness.ts';
import { parsePromText, valueOf } from './prom-text.ts';

describe('the strict exposition parser used below', () => {
  it('accepts a well-formed exposition and rejects malformed ones', () => {
    const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1",y="q\\"\\\\"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n';
    const f = parsePromText(good);
    assert.equal(valueOf(f, 'a_total', { y: 'q"\\' }), 3);
    const bad = [
      'a 1\n', // no TYPE
      '# TYPE a gauge\na{x=1} 1\n', // unquoted label
      '# TYPE a gauge\na 1.2.3\n', // bad value
      '# TYPE a gauge\na 1\na 2\n', // duplicate series
      '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n', // not contiguous
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // decreasing
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', // no +Inf
      '# TYPE a counter\na -1\n', // negative counter
      '# TYPE a gauge\na 1', // no final newline
    ];
    for (const b of bad) assert.throws(() => parsePromText(b), Error, JSON.stringify(b));
  });
});

describe('/metrics', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await allUp(h);
  });
  after(() => h?.close());

  const scrape = async () => {
    const res = await fetch(`${h.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePromText(await res.text());
  };

  it('exposes valid Prometheus text with the controller families and process memory', async () => {
    const f = await scrape();
    const types: Record<string, string> = {
      flotilla_probe_latency_seconds: 'histogram',
      flotilla_probes_total: 'counter',
      flotilla_mirror_health: 'gauge',
      flotilla_mirror_serving: 'gauge',
      flotilla_flips_total: 'counter',
      flotilla_apply_errors_total: 'counter',
      flotilla_convergence_seconds: 'histogram',
      flotilla_provider_convergence_seconds: 'gauge',
      flotilla_provider_last_converged_timestamp_seconds: 'gauge',
      flotilla_audit_events_total: 'counter',
      flotilla_fail_open: 'gauge',
      flotilla_cut_off: 'gauge',
      process_resident_memory_bytes: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
    };
    for (const [name, type] of Object.entries(types)) {
      assert.equal(f.get(name)?.type, type, `${name} should be a ${type}`);
      assert.ok(f.get(name)?.help, `${name} has HELP`);
    }
    for (const m of ['m0', 'm1', 'm2']) {
      assert.equal(valueOf(f, 'flotilla_mirror_health', { mirror: m }), 1);
    }
    await waitFor('probes observed', async () => valueOf(await scrape(), 'flotilla_probe_latency_seconds_count', { mirror: 'm2' })! >= 2);
    assert.ok(valueOf(f, 'process_resident_memory_bytes')! > 1e6, 'resident memory reported');
    assert.ok(valueOf(f, 'flotilla_provider_convergence_seconds', { provider: 'memdns' })! >= 0, 'startup convergence of memdns reported');
    assert.equal(valueOf(f, 'flotilla_apply_errors_total', { provider: 'memdns' }), 0);
  });

  it('follows a flip, an apply error and the alert counters', async () => {
    const alerts = startAlerts({ controller: h.controller, webhooks: [{ url: 'http://127.0.0.1:9/', kind: 'json' }], attempts: 1, registry: h.server.registry });
    try {
      h.driver.failNext = 1;
      h.probe.fail('m2', 'status 503 (expected 200)');
      await waitFor('m2 down', () => h.controller.health.m2?.state === 'down');
      await waitFor('apply error counted', async () => valueOf(await scrape(), 'flotilla_apply_errors_total', { provider: 'memdns' })! >= 1);
      const f = await scrape();
      assert.equal(valueOf(f, 'flotilla_mirror_health', { mirror: 'm2' }), 0);
      assert.equal(valueOf(f, 'flotilla_mirror_serving', { mirror: 'm2' }), 0);
      assert.equal(valueOf(f, 'flotilla_flips_total', { mirror: 'm2', state: 'down' }), 1);
      assert.ok(valueOf(f, 'flotilla_probes_total', { mirror: 'm2', result: 'fail' })! >= 3, 'three failed probes before the flip');
      assert.ok(valueOf(f, 'flotilla_audit_events_total', { kind: 'flip' })! >= 1, 'flip audited');
      await waitFor('the retry after the error converges', async () => valueOf(await scrape(), 'flotilla_convergence_seconds_count')! >= 1);
      await alerts.flush(5000);
      const g = await scrape();
      assert.ok(valueOf(g, 'flotilla_alerts_total', { result: 'failed' })! >= 1, 'port 9 refuses: the alert failed and was counted');
    } finally {
      await alerts.stop();
      h.probe.heal('m2');
    }
  });

  it('the vantages, their verdicts and the leader (one controller: its own vantage leads)', async () => {
    const f = await scrape();
    const me = h.controller.vantage;
    assert.equal(valueOf(f, 'flotilla_vantage_live', { vantage: me }), 1);
    assert.equal(valueOf(f, 'flotilla_vantage_verdict', { vantage: me, mirror: 'm0' }), 1);
    assert.equal(valueOf(f, 'flotilla_leader', { vantage: me }), 1);
    assert.ok(valueOf(f, 'flotilla_leader_since_timestamp_seconds')! > 0);
    assert.equal(valueOf(f, 'flotilla_fail_static'), 0);
    const snap = (await (await fetch(`${h.url}/api/status`)).json()) as { vantage: string; vantages: { name: string; live: boolean; verdicts: Record<string, string> }[]; leader?: { vantage: string } };
    assert.equal(snap.leader?.vantage, me);
    assert.deepEqual(snap.vantages.map((v) => [v.name, v.live, v.verdicts.m0]), [[me, true, 'up']]);
  });

  it('/healthz is 503 while the controller is cut off', async () => {
    h.controller.cutOff = true;
    try {
      assert.equal((await fetch(`${h.url}/healthz`)).status, 503);
      assert.equal(valueOf(await scrape(), 'flotilla_cut_off'), 1);
      assert.equal(valueOf(await scrape(), 'flotilla_fail_static'), 1);
    } finally {
      h.controller.cutOff = false;
    }
    // ok again once a reconcile after the previous test's injected provider failure has gone through (its retry)
    const deadline = Date.now() + 15_000;
    for (;;) {
      const after = await fetch(`${h.url}/healthz`);
      const body = await after.text();
      if (after.status === 200) break;
      if (Date.now() > deadline) assert.fail(`/healthz still ${after.status}: ${body}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
