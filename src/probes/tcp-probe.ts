import { connect, isIP, type Socket } from 'node:net';
import { onAbort } from './abort-link.ts';
import { latencyReason } from './probe-conditions.ts';
import { failure, reasonForError, roundLatency, type Probe, type ProbeResult } from './probe-result.ts';
import type { ProbeTarget } from './probe-target.ts';

export interface TcpProbeOptions {
  now?: () => number;
}

/**
 * TCP connect probe: ok when the mirror's port accepts a connection within timeoutMs (and within the latency
 * budget, when there is one). HTTP fields of the target (path, status, body, TLS) are ignored.
 * Each probe opens and closes its own socket; nothing stays open between probes.
 */
export class TcpProbe implements Probe {
  private readonly now: () => number;
  constructor(opts: TcpProbeOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  run(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
    const at = this.now();
    const t0 = performance.now();
    if (isIP(target.address) === 0)
      return Promise.resolve(failure(target, target.address ? `address ${JSON.stringify(target.address)} is not an IP (probes never resolve names)` : 'no address known', at, 0));
    if (signal.aborted) return Promise.resolve(failure(target, 'aborted', at, 0));

    return new Promise<ProbeResult>((resolve) => {
      let socket: Socket;
      try {
        socket = connect({ host: target.address, port: target.port });
      } catch (err) {
        return resolve(failure(target, reasonForError(err, target.timeoutMs), at, performance.now() - t0)); // e.g. port out of range
      }
      let done = false;
      const finish = (ok: boolean, reason: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unlink();
        socket.destroy();
        const latencyMs = performance.now() - t0;
        if (!ok) return resolve(failure(target, reason, at, latencyMs));
        const slow = latencyReason(target, latencyMs);
        resolve({ mirror: target.mirror, ok: slow === undefined, reason: slow ?? 'ok', latencyMs: roundLatency(latencyMs), at });
      };
      const timer = setTimeout(() => finish(false, `timeout after ${target.timeoutMs}ms`), target.timeoutMs);
      const unlink = onAbort(signal, () => finish(false, 'aborted'));
      socket.once('connect', () => finish(true, 'ok'));
      socket.on('error', (err) => finish(false, reasonForError(err, target.timeoutMs)));
    });
  }

  async close(): Promise<void> {}
}
