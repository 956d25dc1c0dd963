import { createRequire } from 'node:module';
import type { buildConnector as BuildConnector, Client as UndiciClient } from 'undici';

// undici's index loads fetch, WebSocket, caches, mocks and more, which the probe never uses: about 8 MiB of idle RSS
// in the daemon. The probe needs only the HTTP/1 client, the connector and `request`, loaded from undici's own
// modules. `request` is what the index installs on every dispatcher; installed here the same way when missing.
const require = createRequire(import.meta.url);

export const Client: typeof UndiciClient = require('undici/lib/dispatcher/client.js');
export type Client = UndiciClient;
export const buildConnector: typeof BuildConnector = require('undici/lib/core/connect.js');
export declare namespace buildConnector {
  export type connector = BuildConnector.connector;
}

const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: { request?: unknown } };
dispatcher.prototype.request ??= require('undici/lib/api/api-request.js');
