/**
 * `flotilla daemon` as a real process, SIGHUP and the delegation guard: a BIND parent delegating drill.test to a BIND
 * child and PowerDNS (test/support/delegation-lab.ts), the parent written over RFC 2136 as the registrar. The daemon
 * starts with `delegation.interval: 1h` (one round at start, then nothing for an hour); PowerDNS loses the zone; a
 * SIGHUP with `interval: 1s` must prune it at the parent within seconds — only a guard restarted from the new spec
 * does. Then a bad file + SIGHUP: the guard keeps running (PowerDNS back → restored at the parent).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queryDns } from '../../src/dns/dns-client.ts';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { LAB_ZONE as ZONE, startDelegationLab, type DelegationLab } from '../support/delegation-lab.ts';
import { freePort } from '../support/ports.ts';
import { BIN, REPO } from '../support/run-cli.ts';

describe('flotilla daemon: SIGHUP restarts the delegation guard from the new spec', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-daemon-deleg-'));
  const stackFile = join(dir, 'stacks', 'Pulumi.d.yaml');
  let lab: DelegationLab | undefined;
  let child: ChildProcess | undefined;
  let env: Record<string, string | undefined> = {};

  const stack = (interval: string) => {
    const { parent, child: bind, pdns, port } = lab!;
    return [
      'config:',
      '  flotilla:fleet:',
      `    site: { name: d, contentDir: ${join(REPO, 'site')} }`,
      `    domain: ${ZONE}`,
      '    mirrors: [{ name: a, provider: local, ipv4: 127.0.0.11 }]',
      '    dnsProviders:',
      `      - { name: bind, kind: rfc2136, settings: { server: "${bind.address}", tsigKeyName: ${bind.keyName}, tsigSecretEnv: DRILL_TSIG } }`,
      `      - { name: pdns, kind: powerdns, settings: { url: "${pdns.apiUrl}", apiKeyEnv: DRILL_PDNS_KEY, nameservers: ["${pdns.dnsAddress}"] } }`,
      '    registrars:',
      `      - { name: parent, kind: rfc2136, domain: ${ZONE}, settings: { server: "${parent.address}", tsigKeyName: ${parent.keyName}, tsigSecretEnv: PARENT_TSIG, parentZone: test, ttl: 60 } }`,
      '    delegation:',
      `      parents: ["${parent.address}"]`,
      `      nameserverPort: ${port}`,
      '      nameservers: { bind: [ns1.bind.drill.test], pdns: [ns1.pdns.drill.test] }',
      '      rdapBootstrap: http://127.0.0.1:9/bootstrap.json',
      '      timeout: 1s',
      `      interval: ${interval}`,
      '      pruneAfter: 2',
      '      restoreAfter: 2',
      `    server: { listen: 127.0.0.1, port: ${serverPort} }`,
      `    state: { path: ${join(dir, 'state')} }`,
      '',
    ].join('\n');
  };
  let serverPort = 0;

  const parentNs = async () => {
    const r = await queryDns({ server: lab!.parent.address, name: ZONE, type: 'NS', timeoutMs: 1000 });
    return r.ok ? [...r.answers, ...r.authority].filter((a) => a.type === 'NS' && a.name === ZONE).map((a) => a.value).sort() : [];
  };

  before(async () => {
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    lab = await startDelegationLab();
    serverPort = await freePort();
    env = { ...process.env, DRILL_TSIG: lab.child.secret, DRILL_PDNS_KEY: lab.pdns.apiKey, PARENT_TSIG: lab.parent.secret };
  });
  after(async () => {
    if (child) await stopChild(child);
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a new interval is in effect after SIGHUP; a bad file keeps the running guard', async () => {
    writeFileSync(stackFile, stack('1h'));
    child = spawnTracked(process.execPath, [BIN, 'daemon', '--config', stackFile, '--no-http'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const waitFor = async (what: string, fn: () => boolean | Promise<boolean>, ms: number) => {
      const t0 = Date.now();
      while (!(await fn())) {
        if (Date.now() - t0 > ms) assert.fail(`never: ${what}\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor('the guard started every 3600s', () => /watching the delegation of drill\.test every 3600s/.test(out), 30_000);
    const all = ['ns1.bind.drill.test', 'ns1.pdns.drill.test'];
    assert.deepEqual(await parentNs(), all);

    // PowerDNS loses the zone; the running guard would look again in an hour
    await lab!.deletePdnsZone();
    writeFileSync(stackFile, stack('1s'));
    child.kill('SIGHUP');
    await waitFor('the reload', () => /stack file reloaded/.test(out), 30_000);
    await waitFor('PowerDNS pruned at the parent (2 lame checks at 1s)', async () => !(await parentNs()).includes('ns1.pdns.drill.test'), 20_000);
    assert.match(out, /stack file reloaded[\s\S]*watching the delegation of drill\.test every 1s/);
    assert.deepEqual(await parentNs(), ['ns1.bind.drill.test']);
    assert.match(out, /delegation: .*prun/i);

    // a bad file: rejected, and the 1s guard goes on (PowerDNS back → restored after 2 good checks)
    writeFileSync(stackFile, stack('1s').replace('pruneAfter: 2', 'prunAfter: 2'));
    child.kill('SIGHUP');
    await waitFor('the bad file rejected', () => /the stack file was rejected, keeping the running spec/.test(out), 30_000);
    assert.match(out, /prunAfter/);
    await lab!.createPdnsZone();
    await waitFor('PowerDNS restored at the parent by the running guard', async () => (await parentNs()).includes('ns1.pdns.drill.test'), 20_000);
    assert.deepEqual(await parentNs(), all);
    assert.equal(out.match(/watching the delegation of/g)?.length, 2, 'the rejected file started no guard');

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => (child!.exitCode !== null ? r(child!.exitCode) : child!.once('exit', (c) => r(c))));
    assert.equal(code, 0, out);
  });
});
