import type { Server, Socket } from 'node:net';

export interface ConnectionCap {
  /** Open connections in all, at most (beyond it new ones are closed at once). */
  maxConnections: number;
  /** Open connections from one client address, at most. */
  maxPerClient: number;
}

export interface CappedServer {
  /** Open connections now. */
  readonly open: number;
  /** Connections closed at accept because a cap was reached, since start. */
  readonly refused: number;
}

/**
 * Caps a TCP server's open connections, in all and per client address: a connection over either cap is closed as
 * soon as it is accepted, before anything reads from it, so slow or idle clients cannot take every file descriptor.
 * Used by the embedded DNS server's TCP port and by the daemon's HTTP server (any net.Server, http included).
 */
export function capConnections(server: Server, cap: ConnectionCap, onRefused?: (remote: string, why: string) => void): CappedServer {
  const perClient = new Map<string, number>();
  let open = 0;
  let refused = 0;
  // prepended: runs before the server's own handler (http's parser) sees the socket
  server.prependListener('connection', (sock: Socket) => {
    const remote = clientKey(sock.remoteAddress);
    const mine = perClient.get(remote) ?? 0;
    const why = open >= cap.maxConnections ? `${cap.maxConnections} connections open` : mine >= cap.maxPerClient ? `${cap.maxPerClient} connections open from ${remote}` : undefined;
    if (why) {
      refused++;
      sock.resetAndDestroy();
      onRefused?.(remote, why);
      return;
    }
    open++;
    perClient.set(remote, mine + 1);
    sock.once('close', () => {
      open--;
      const n = (perClient.get(remote) ?? 1) - 1;
      if (n <= 0) perClient.delete(remote);
      else perClient.set(remote, n);
    });
  });
  return {
    get open() {
      return open;
    },
    get refused() {
      return refused;
    },
  };
}

/** The client's address, IPv4-mapped IPv6 written as IPv4. */
function clientKey(addr: string | undefined): string {
  if (!addr) return '?';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}
