import Module, { createRequire } from 'node:module';
import type { buildConnector as BuildConnector, Client as UndiciClient } from 'undici';

// undici's index loads fetch, WebSocket, caches, mocks and more, which the probe never uses: about 8 MiB of idle RSS
// in the daemon. The probe needs only the HTTP/1 client, the connector and `request`, loaded from undici's own
// modules. `request` is what the index installs on every dispatcher; installed here the same way when missing.
const require = createRequire(import.meta.url);

// The probe never offers HTTP/2 (no `allowH2`, so ALPN never picks h2), yet the client module loads its HTTP/2 half
// and node:http2 up front: ~5 MiB of idle RSS. A stand-in takes its place in the module cache; called, it fails the
// connection with a clear error instead of speaking HTTP/2.
const h2Path = require.resolve('undici/lib/dispatcher/client-h2.js');
if (!require.cache[h2Path]) {
  const standIn = new Module(h2Path);
  standIn.filename = h2Path;
  standIn.loaded = true;
  standIn.exports = function connectH2(): never {
    throw new Error('flotilla probe: the server chose HTTP/2, which the probe does not offer');
  };
  require.cache[h2Path] = standIn;
}

export const Client: typeof UndiciClient = require('undici/lib/dispatcher/client.js');
export type Client = UndiciClient;
export const buildConnector: typeof BuildConnector = require('undici/lib/core/connect.js');
export declare namespace buildConnector {
  export type connector = BuildConnector.connector;
}

const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: { request?: unknown } };
dispatcher.prototype.request ??= require('undici/lib/api/api-request.js');
