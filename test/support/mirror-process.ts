/**
 * Child-process entry of a test mirror: `node --import tsx test/support/mirror-process.ts '<MirrorOptions JSON>'`.
 * Talks to its parent over IPC: sends {type:'ready', port, url}, obeys {type:'mode', id, mode, delayMs} and answers
 * {type:'counters', id} with its request counters.
 * Exits on SIGTERM and when the parent goes away (IPC disconnect), so it never outlives the test.
 */
import { startMirror, type MirrorMode, type MirrorOptions } from './mirror-server.ts';

const opts = JSON.parse(process.argv[2] ?? '{}') as MirrorOptions;
const send = (m: object) => process.send?.(m);

try {
  const mirror = await startMirror(opts);
  const shutdown = async (code: number) => {
    await mirror.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('disconnect', () => void shutdown(0));
  process.on('message', (m: { type: string; id: number; mode: MirrorMode; delayMs?: number }) => {
    if (m.type === 'counters') send({ type: 'counters', id: m.id, requests: mirror.requests, dropped: mirror.dropped });
    if (m.type !== 'mode') return;
    mirror.setMode(m.mode, { delayMs: m.delayMs });
    send({ type: 'mode-ack', id: m.id });
  });
  send({ type: 'ready', port: mirror.port, url: mirror.url });
} catch (err) {
  // Exit only once the message is out, so the parent learns why.
  if (process.send) process.send({ type: 'failed', error: (err as Error).message }, () => process.exit(1));
  else process.exit(1);
}
