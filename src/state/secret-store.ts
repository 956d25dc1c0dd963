import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../domain/errors.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import { EtcdClient } from './etcd-client.ts';
import { withFileLock } from './file-lock.ts';

/**
 * The state store's secrets area: small named values (ACME account key, certificate private keys) kept apart from
 * state.json, which `status` prints and tests copy around.
 * - get(name) resolves undefined when the value was never stored; put(name, value) replaces it atomically.
 * - Names are `[a-z0-9._-]` words (never paths). Values never appear in errors or logs.
 * - The file store keeps one file per name in `<state.path>/secrets/`, the directory mode 0700, every file mode 0600
 *   (written to a temp file of that mode, fsynced, renamed over the old one).
 * - The etcd store keeps `<prefix>secrets/<name>`: protect it with etcd's own authentication and TLS.
 */
export interface SecretStore {
  readonly where: string;
  get(name: string): Promise<string | undefined>;
  put(name: string, value: string): Promise<void>;
  /**
   * Runs `fn` while holding the lock `name` (between processes sharing the file store: a CLI run and the daemon).
   * Waits at most `timeoutMs`, then throws StateError STATE_CONFLICT naming the holder. The etcd store runs `fn`
   * without a lock (one daemon per stack is assumed there).
   */
  exclusive<T>(name: string, fn: () => Promise<T>, timeoutMs: number): Promise<T>;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

function checkName(name: string): void {
  if (!NAME.test(name)) throw new StateError('STATE_CORRUPT', `secret name ${JSON.stringify(name)} is not a plain word`);
}

export class FileSecretStore implements SecretStore {
  readonly where: string;
  constructor(stateDir: string) {
    this.where = join(stateDir, 'secrets');
  }

  async get(name: string): Promise<string | undefined> {
    checkName(name);
    try {
      return await readFile(join(this.where, name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateError('STATE_UNAVAILABLE', `cannot read secret ${name} in ${this.where}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }

  async put(name: string, value: string): Promise<void> {
    checkName(name);
    const path = join(this.where, name);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await mkdir(this.where, { recursive: true, mode: 0o700 });
      await chmod(this.where, 0o700);
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.chmod(0o600); // a umask cannot widen it, but an old temp file of another mode could exist
        await fh.writeFile(value);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw new StateError('STATE_UNAVAILABLE', `cannot write secret ${name} in ${this.where}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }

  async exclusive<T>(name: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
    checkName(name);
    try {
      await mkdir(this.where, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new StateError('STATE_UNAVAILABLE', `cannot create ${this.where}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return withFileLock(join(this.where, `${name}.lock`), fn, { timeoutMs });
  }
}

export class EtcdSecretStore implements SecretStore {
  readonly where: string;
  private readonly client: EtcdClient;
  constructor(endpoints: string[], prefix: string) {
    this.where = `${prefix}secrets/`;
    this.client = new EtcdClient({ endpoints, label: `etcd secrets (prefix ${this.where})` });
  }

  async get(name: string): Promise<string | undefined> {
    checkName(name);
    const r = await this.client.range(`${this.where}${name}`);
    return r.kvs[0]?.value;
  }

  async put(name: string, value: string): Promise<void> {
    checkName(name);
    await this.client.put(`${this.where}${name}`, value);
  }

  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    checkName(name);
    return fn();
  }
}

/** The secrets area of the store the spec names (the same directory or etcd prefix as openStore). */
export function openSecretStore(spec: Pick<FleetSpec, 'stack' | 'state'>): SecretStore {
  if (spec.state.kind === 'etcd') return new EtcdSecretStore(spec.state.endpoints, `/flotilla/${spec.stack}/`);
  return new FileSecretStore(spec.state.path);
}
