import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnTracked, stopChild } from '../support/child-processes.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { freePort } from '../support/ports.ts';
import { REPO } from '../support/run-cli.ts';

const UNIT_FILE = join(REPO, 'deploy', 'flotilla.service');
const UNIT = readFileSync(UNIT_FILE, 'utf8');

/** `Key=value` lines of one [Section] (comments dropped; a repeated key keeps its last value). */
function section(name: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inside = false;
  for (const raw of UNIT.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inside = line === `[${name}]`;
    else if (inside && line && !line.startsWith('#')) {
      const i = line.indexOf('=');
      out[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return out;
}

describe('deploy/flotilla.service: the shipped systemd unit', { timeout: 120_000 }, () => {
  const service = section('Service');

  it('is a unit systemd itself accepts', () => {
    ensurePackages({ 'systemd-analyze': 'systemd' });
    const r = spawnSync('systemd-analyze', ['verify', UNIT_FILE], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // systemd-analyze exits 0 on settings it ignores; it says so on stderr
    assert.equal(r.stderr.trim(), '', `systemd-analyze has remarks:\n${r.stderr}`);
  });

  it('runs the bin itself (no npx/npm wrapper to swallow signals), restarts, keeps a state directory, waits out the stop grace', () => {
    const exec = service.ExecStart.split(/\s+/);
    assert.match(exec[0], /\/node$/);
    assert.match(exec[1], /\/bin\/flotilla\.mjs$/);
    assert.equal(exec[2], 'daemon');
    assert.doesNotMatch(service.ExecStart, /\bnpx\b|\bnpm\b/);
    assert.equal(service.KillSignal, 'SIGTERM');
    assert.match(service.Restart, /^(always|on-failure)$/);
    assert.equal(service.StateDirectory, 'flotilla');
    assert.ok(Number(service.TimeoutStopSec) > 30, 'longer than the controller\'s 30 s grace for provider writes in flight');
    assert.match(service.ExecReload, /kill -HUP \$MAINPID/);
    assert.match(UNIT, /path: \/var\/lib\/flotilla\//, 'the install notes put the state under the StateDirectory');
  });

  const dir = mkdtempSync(join(tmpdir(), 'flotilla-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('its ExecStart command, started as systemd would, prints its pid and stops on SIGTERM freeing every port', async () => {
    // the unit's paths, moved to this checkout and a temp project: /opt/flotilla → REPO, /var/lib/flotilla → dir
    mkdirSync(join(dir, 'stacks'), { recursive: true });
    writeFileSync(join(dir, 'Pulumi.yaml'), readFileSync(join(REPO, 'Pulumi.yaml')));
    const [dnsPort, httpPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'stacks', 'Pulumi.production.yaml'), `config:
  flotilla:fleet:
    site: { name: unit, contentDir: ${join(REPO, 'site')} }
    domain: unit.test
    mirrors:
      - { name: m1, provider: local, ipv4: 127.0.0.31 }
    dnsProviders:
      - { name: embedded, kind: local, settings: { listen: 127.0.0.1, port: ${dnsPort} } }
    health: { interval: 250ms, timeout: 200ms }
    state: { kind: file, path: ${join(dir, 'state')} }
    server: { listen: 127.0.0.1, port: ${httpPort} }
`);
    const [, bin, ...args] = service.ExecStart.split(/\s+/);
    const child = spawnTracked(process.execPath, [bin.replace('/opt/flotilla', REPO), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    try {
      const t0 = Date.now();
      while (!/embedded DNS server on/.test(out) || !/controller started/.test(out)) {
        if (child.exitCode !== null || Date.now() - t0 > 60_000) assert.fail(`the daemon did not come up:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(out, new RegExp(`runs as pid ${child.pid}\\b`));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
      for (const port of [dnsPort, httpPort]) {
        await new Promise<void>((resolve, reject) => {
          const s = createServer();
          s.once('error', (e) => reject(new Error(`port ${port} still held after SIGTERM: ${e.message}`)));
          s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
        });
      }
    } finally {
      await stopChild(child, { signal: 'SIGKILL' });
    }
  });
});
