import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { parse } from 'yaml';
import { fleetSchema } from '../../src/config/fleet-schema.ts';
import { zodIssues } from '../../src/config/load-stack.ts';
import { normalizeValue } from '../../src/domain/records.ts';
import { desiredRecords } from '../../src/planner/desired-records.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { REPO } from '../support/run-cli.ts';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The shipped local stack's fleet, as the loader hands it to the schema; `edit` changes a deep copy. */
function fleet(edit: (f: Raw) => void = () => {}): Raw {
  const f = structuredClone(parse(readFileSync(join(REPO, 'stacks', 'Pulumi.local.yaml'), 'utf8')).config['flotilla:fleet']);
  edit(f);
  return f;
}

/** The issues of a fleet, as `flotilla validate` prints them: path and message. */
function issues(f: Raw): { path: string; message: string }[] {
  const r = fleetSchema.safeParse(f);
  return r.success ? [] : zodIssues(r.error, f);
}

function refused(f: Raw, path: string, ...needles: (string | RegExp)[]): string {
  const all = issues(f);
  const hit = all.find((i) => i.path === `flotilla:fleet.${path}`);
  assert.ok(hit, `expected a problem at ${path}, got ${JSON.stringify(all)}`);
  for (const n of needles) assert.match(hit.message, typeof n === 'string' ? new RegExp(n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : n);
  return hit.message;
}

function accepted(f: Raw) {
  const r = fleetSchema.safeParse(f);
  assert.ok(r.success, JSON.stringify(issues(f)));
  return r.data;
}

describe('fleet schema: addresses', () => {
  it('refuses malformed IPv6 and IPv4 with the path and what was expected', () => {
    for (const bad of ['1:2:3:4:5:6:7:8::9', ':::::', '::::', '1::2:3:4:5:6:7:8', 'fe80::1%eth0', '12345::', 'g::1', '127.0.0.1'])
      refused(fleet((f) => { f.mirrors[0].ipv6 = bad; }), 'mirrors[0].ipv6', 'expected an IPv6 address');
    for (const bad of ['01.2.3.4', '256.1.1.1', '1.2.3', '::1', '1.2.3.4 '])
      refused(fleet((f) => { f.mirrors[0].ipv4 = bad; }), 'mirrors[0].ipv4', 'expected an IPv4 address');
  });

  it('publishes the canonical form of every IPv6 address it accepts, one every DNS encoder can write', () => {
    const spec = accepted(fleet((f) => { f.mirrors[0].ipv6 = '2001:DB8:0:0:0:0:0:0001'; }));
    assert.equal(spec.mirrors[0].ipv6, '2001:db8::1');
    fc.assert(
      fc.property(fc.ipV6(), (addr) => {
        const out = accepted(fleet((f) => { f.mirrors[0].ipv6 = addr; })).mirrors[0].ipv6!;
        assert.equal(isIP(out), 6);
        assert.equal(normalizeValue('AAAA', out), out, 'the value compares as it is published');
        // what the planner publishes for it, through the wire encoder the embedded server and RFC 2136 use
        const records = Object.values(desiredRecords(fleetFixture({ mirrors: [{ name: 'm0', provider: 'local', ipv6: out, settings: {} }] }), {}, [], { now: 0 }).zones).flat();
        const aaaa = records.find((r) => r.type === 'AAAA' && r.values.length > 0);
        assert.deepEqual(aaaa?.values, [out]);
        const wire = dnsPacket.encode({ type: 'response', answers: [{ type: 'AAAA', name: 'x.test', data: out }] });
        const back = (dnsPacket.decode(wire).answers![0] as { data: string }).data;
        assert.equal(normalizeValue('AAAA', back), out);
      }),
      { numRuns: 300 },
    );
  });

  it('listen addresses are IP literals; ports are 1-65535 everywhere, canaries too', () => {
    refused(fleet((f) => { f.server = { listen: 'not an address' }; }), 'server.listen', 'IP address');
    refused(fleet((f) => { f.dnsProviders[0].settings.listen = '127.0.0.1:53'; }), 'dnsProviders[0].settings.listen', 'IP address');
    refused(fleet((f) => { f.server = { port: 0 }; }), 'server.port');
    refused(fleet((f) => { f.server = { port: 70000 }; }), 'server.port');
    refused(fleet((f) => { f.dnsProviders[0].settings.port = 99999; }), 'dnsProviders[0].settings.port');
    refused(fleet((f) => { f.health.port = 1.5; }), 'health.port');
    refused(fleet((f) => { f.dnsProviders[2].settings.nameservers = ['127.0.0.1:99999']; }), 'dnsProviders[2].settings.nameservers[0]', 'port 1-65535');
    refused(fleet((f) => { f.dnsProviders[1].settings.server = '[::1:53'; }), 'dnsProviders[1].settings.server', 'host:port');
    accepted(fleet((f) => { f.server = { listen: '::1', port: 1 }; f.dnsProviders[1].settings.server = '[::1]:53'; }));
  });

  it('canary targets are URLs or host:port that the controller can reach', () => {
    for (const bad of ['::::', 'http://[::1', '127.0.0.1:99999', '127.0.0.1', 'ftp://example.org/', 'https://user:pw@example.org/', 'no such host:53', '1.2.3.999:53'])
      refused(fleet((f) => { f.canaries = [{ target: bad }]; }), 'canaries[0].target');
    for (const good of ['127.0.0.1:5353', '[::1]:53', 'localhost:53', 'https://dns.google/', 'http://127.0.0.1:8080/healthz'])
      accepted(fleet((f) => { f.canaries = [{ target: good }]; }));
  });
});

describe('fleet schema: bounded values', () => {
  it('no duration reaches a timer above 2^31-1 ms; overflow to Infinity is refused', () => {
    for (const bad of ['25d', '2h', '1' + '0'.repeat(400) + 'ms', '10ms'])
      refused(fleet((f) => { f.health.interval = bad; }), 'health.interval', 'expected a duration', 'to 1h');
    refused(fleet((f) => { f.health.latencyBudget = '2h'; }), 'health.latencyBudget', 'to 1h');
    refused(fleet((f) => { f.mirrors[1].health = { interval: '30d' }; }), 'mirrors[1].health.interval');
    refused(fleet((f) => { f.dnsProviders[1].settings.timeout = '30d'; }), 'dnsProviders[1].settings.timeout', 'to 5m');
    refused(fleet((f) => { f.dnsProviders[2].settings.timeout = 'soon'; }), 'dnsProviders[2].settings.timeout');
    accepted(fleet((f) => { f.health.interval = '1h'; f.health.timeout = '10s'; }));
  });

  it('a timeout fits the interval and a latency budget fits the timeout, for a mirror\'s own values too', () => {
    refused(fleet((f) => { f.health.timeout = '300ms'; }), 'health.timeout', 'no longer than the interval');
    refused(fleet((f) => { f.mirrors[2].health = { timeout: '1s' }; }), 'mirrors[2].health.timeout', 'no longer than the interval');
    refused(fleet((f) => { f.health.latencyBudget = '201ms'; }), 'health.latencyBudget', 'no longer than the timeout');
    accepted(fleet((f) => { f.mirrors[2].health = { interval: '2s', timeout: '1s' }; }));
  });

  it('TTL, counts and shares are finite integers in range', () => {
    for (const bad of [0, -5, 2 ** 31, 2 ** 31 - 1, 604_801, 1.5, Infinity, NaN])
      refused(fleet((f) => { f.policy.ttl = bad; }), 'policy.ttl');
    accepted(fleet((f) => { f.policy.ttl = 604_800; }));
    refused(fleet((f) => { f.policy.minHealthy = 4; }), 'policy.minHealthy', 'number of mirrors (3)');
    refused(fleet((f) => { f.health.rise = 1e9; }), 'health.rise');
    refused(fleet((f) => { f.health.fall = Infinity; }), 'health.fall');
    refused(fleet((f) => { f.health.tlsMinDays = 1e300; }), 'health.tlsMinDays');
    refused(fleet((f) => { f.policy.maxRemoveShare = NaN; }), 'policy.maxRemoveShare');
    refused(fleet((f) => { f.dnsProviders[1].settings.tsigKeyName = 'a b'; }), 'dnsProviders[1].settings.tsigKeyName');
  });

  it('probe settings the probe cannot send or compile are refused here', () => {
    refused(fleet((f) => { f.health.path = '/a b'; }), 'health.path');
    refused(fleet((f) => { f.health.path = '/\r\nX-Injected: 1'; }), 'health.path');
    refused(fleet((f) => { f.health.host = 'bad host\r\n'; }), 'health.host');
    refused(fleet((f) => { f.health.bodyMatch = '/(unclosed/'; }), 'health.bodyMatch', 'regular expression');
    accepted(fleet((f) => { f.health.bodyMatch = '/ok|up/i'; f.health.host = 'www.flotilla.test'; f.health.path = '/health?deep=1'; }));
  });

  it('weight is gone: nothing honoured it, so it is refused with a migration note, not "check the spelling"', () => {
    refused(fleet((f) => { f.mirrors[0].weight = 2; }), 'mirrors[0].weight', '"weight" is no longer read', 'delete the key');
    // elsewhere a key named weight is just unknown
    refused(fleet((f) => { f.health.weight = 2; }), 'health.weight', 'unknown key');
  });
});

describe('fleet schema: secrets stay out of the stack file and of every error', () => {
  const SECRET = 'sk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0';

  it('every ...Env setting must be the name of a variable; a pasted secret is refused without being echoed', () => {
    const cases: [string, (f: Raw) => void][] = [
      ['server.tokenEnv', (f) => { f.server.tokenEnv = SECRET; }],
      ['dnsProviders[1].settings.tsigSecretEnv', (f) => { f.dnsProviders[1].settings.tsigSecretEnv = SECRET; }],
      ['dnsProviders[2].settings.apiKeyEnv', (f) => { f.dnsProviders[2].settings.apiKeyEnv = SECRET; }],
      ['mirrors[0].sshKeyEnv', (f) => { f.mirrors[0] = { name: 'box', provider: 'ssh', ipv4: '127.0.0.11', sshKeyEnv: SECRET }; }],
      ['alerts.webhooks[0].secretEnv', (f) => { f.alerts = { webhooks: [{ url: 'http://127.0.0.1:9/hook', secretEnv: SECRET }] }; }],
    ];
    for (const [path, edit] of cases) {
      const f = fleet(edit);
      const msg = refused(f, path, 'NAME of an environment variable', 'not shown');
      assert.ok(!JSON.stringify(issues(f)).includes(SECRET.slice(8)), `${path}: the secret was echoed: ${msg}`);
    }
    refused(fleet((f) => { f.server = { tokenEnv: 'my_token' }; }), 'server.tokenEnv', 'upper-case');
    accepted(fleet((f) => { f.server = { tokenEnv: 'FLOTILLA_API_TOKEN_2' }; }));
  });

  it('a URL with credentials is refused, shown redacted, pointing at the Env setting', () => {
    const f = fleet((x) => { x.dnsProviders[2].settings.url = 'http://admin:hunter2@127.0.0.1:8281'; });
    const msg = refused(f, 'dnsProviders[2].settings.url', 'must not carry credentials', 'apiKeyEnv', 'http://***@127.0.0.1:8281/');
    assert.ok(!msg.includes('hunter2') && !msg.includes('admin'));
    refused(fleet((x) => { x.alerts = { webhooks: [{ url: 'https://u:p@hooks.example.org/x' }] }; }), 'alerts.webhooks[0].url', 'credentials');
    refused(fleet((x) => { x.state = { kind: 'etcd', endpoints: ['http://root:pw@127.0.0.1:2379'] }; }), 'state.endpoints[0]', 'credentials');
    refused(fleet((x) => { x.dnsProviders[2].settings.url = 'file:///etc/passwd'; }), 'dnsProviders[2].settings.url', 'http(s) URL');
  });
});

describe('fleet schema: several controllers', () => {
  it('health.quorum is a share in (0, 1]; minVantages a count ≥ 1; state.lease whole seconds 2s..5m', () => {
    for (const bad of [0, -0.5, 1.5, '50%']) refused(fleet((f) => { f.health.quorum = bad; }), 'health.quorum');
    refused(fleet((f) => { f.health.minVantages = 0; }), 'health.minVantages');
    refused(fleet((f) => { f.health.minVantages = 1.5; }), 'health.minVantages');
    refused(fleet((f) => { f.state = { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], lease: '2500ms' }; }), 'state.lease', 'whole seconds');
    refused(fleet((f) => { f.state = { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], lease: '1s' }; }), 'state.lease');
    const ok = accepted(fleet((f) => { f.health.quorum = 0.34; f.health.minVantages = 2; f.state = { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], lease: '5s' }; }));
    assert.equal(ok.health.quorum, 0.34);
    assert.equal(ok.state.lease, 5000);
    assert.equal(accepted(fleet()).health.minVantages, 1);
    assert.equal(accepted(fleet()).health.quorum, undefined, 'unset: a majority');
  });

  it('state.secretsKeyEnv: a variable name, for the etcd store only', () => {
    const ok = accepted(fleet((f) => { f.state = { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], secretsKeyEnv: 'FLOTILLA_SECRETS_KEY' }; }));
    assert.equal(ok.state.secretsKeyEnv, 'FLOTILLA_SECRETS_KEY');
    refused(fleet((f) => { f.state = { kind: 'file', secretsKeyEnv: 'FLOTILLA_SECRETS_KEY' }; }), 'state.secretsKeyEnv', 'only the etcd store seals');
    refused(fleet((f) => { f.state = { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], secretsKeyEnv: 'c2VjcmV0IGtleSBwYXN0ZWQgaGVyZQ==' }; }), 'state.secretsKeyEnv');
  });
});
