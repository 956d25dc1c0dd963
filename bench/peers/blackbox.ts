/**
 * prometheus-blackbox-exporter (Debian) in the foreground on 127.0.0.1 with a free port and a module `http_2xx`
 * (GET, IPv4, any 2xx, timeout 1 s). A probe is one scrape of /probe?module=http_2xx&target=URL.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePackages } from '../../test/support/ensure-packages.ts';
import { freePort } from '../../test/support/ports.ts';
import { startDaemon, trackTempDir } from '../lib/procs.ts';

export interface BlackboxExporter {
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

export function ensureBlackbox(): void {
  ensurePackages({ 'prometheus-blackbox-exporter': 'prometheus-blackbox-exporter' });
}

export async function startBlackbox(o: { timeoutS: number }): Promise<BlackboxExporter> {
  ensureBlackbox();
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'flotilla-bench-blackbox-')));
  writeFileSync(
    join(dir, 'blackbox.yml'),
    ['modules:', '  http_2xx:', '    prober: http', `    timeout: ${o.timeoutS}s`, '    http:', '      preferred_ip_protocol: ip4', '      ip_protocol_fallback: false', ''].join('\n'),
  );
  const port = await freePort();
  const daemon = startDaemon(
    'prometheus-blackbox-exporter',
    [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { label: 'blackbox exporter', cwd: dir },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (daemon.exited()) throw new Error(`blackbox exporter exited:\n${daemon.log()}`);
    const ok = await fetch(`${url}/-/healthy`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`blackbox exporter did not answer at ${url} within 15 s:\n${daemon.log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const version = await fetch(`${url}/metrics`).then((r) => r.text()).then((t) => /blackbox_exporter_build_info\{[^}]*version="([^"]+)"/.exec(t)?.[1] ?? 'unknown').catch(() => 'unknown');
  return { url, pid: daemon.pid, version, stop: daemon.stop };
}
