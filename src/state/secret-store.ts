import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../domain/errors.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { Fence } from './cluster.ts';
import { EtcdClient, prefixEnd } from './etcd-client.ts';
import { withEtcdLock, type LockHold } from './etcd-lock.ts';
import { FencedError } from './fenced-error.ts';
import { withFileLock } from './file-lock.ts';
import { seal, sealedWith, secretsKeyFrom, unseal, type SecretsKey } from './secret-seal.ts';
import { SecretsKeyError } from './secrets-key-error.ts';

export type { LockHold } from './etcd-lock.ts';

/**
 * The state store's secrets area: small named values (ACME account key, certificate private keys) kept apart from
 * state.json, which `status` prints and tests copy around.
 * - get(name) resolves undefined when the value was never stored; put(name, value) replaces it atomically.
 * - Names are `[a-z0-9._-]` words (never paths). Values never appear in errors or logs.
 * - The file store keeps one file per name in `<state.path>/secrets/`, the directory mode 0700, every file mode 0600
 *   (written to a temp file of that mode, fsynced, renamed over the old one).
 * - The etcd store keeps `<prefix>secrets/<name>`: protect it with etcd's own authentication and TLS, and seal the
 *   values with a key of the stack's (`state.secretsKeyEnv`, see secret-seal.ts).
 */
export interface SecretStore {
  readonly where: string;
  get(name: string): Promise<string | undefined>;
  /**
   * With `fences` (etcd): written only while every fence key still has its create revision, in the same transaction;
   * otherwise FencedError (NOT_LEADER) and nothing is written. The file store has no leader and ignores them.
   */
  put(name: string, value: string, fences?: readonly Fence[]): Promise<void>;
  /**
   * Runs `fn` while holding the lock `name` between every process of the stack (a CLI run and the daemons): the file
   * store's is a file lock; the etcd store's an etcd key under a lease (see withEtcdLock), whose fence `fn` gets.
   * Waits at most `timeoutMs` (calling `onWait` with the holder once), then throws StateError STATE_CONFLICT naming it.
   */
  exclusive<T>(name: string, fn: (hold: LockHold) => Promise<T>, timeoutMs: number, opts?: { onWait?: (holder: string) => void; signal?: AbortSignal }): Promise<T>;
  /** etcd: the names whose values are stored in plaintext (not sealed); the file store keeps 0600 files and lacks it. */
  plaintextNames?(): Promise<string[]>;
  /** True when put() seals what it writes (etcd with a key). */
  readonly sealing?: boolean;
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

  async exclusive<T>(name: string, fn: (hold: LockHold) => Promise<T>, timeoutMs: number): Promise<T> {
    checkName(name);
    try {
      await mkdir(this.where, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new StateError('STATE_UNAVAILABLE', `cannot create ${this.where}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return withFileLock(join(this.where, `${name}.lock`), () => fn({ confirm: async () => undefined }), { timeoutMs });
  }
}

export interface EtcdSecretStoreOptions {
  /** Seals every value written (AES-256-GCM); absent: values are written in plaintext. */
  key?: SecretsKey;
  /** TTL of the lease under exclusive()'s lock (whole seconds, default 10). */
  lockTtlS?: number;
}

/**
 * `<prefix>secrets/<name>` in etcd. With a key every put seals the value; get opens sealed values and passes
 * plaintext ones through (written before the key was set: the next put seals them). A put never replaces a value
 * sealed with another key, or one sealed when this process has no key (SecretsKeyError, nothing written).
 * exclusive() takes `<prefix>locks/<name>`.
 */
export class EtcdSecretStore implements SecretStore {
  readonly where: string;
  private readonly client: EtcdClient;
  constructor(
    private readonly endpoints: string[],
    private readonly prefix: string,
    private readonly o: EtcdSecretStoreOptions = {},
  ) {
    this.where = `${prefix}secrets/`;
    this.client = new EtcdClient({ endpoints, label: `etcd secrets (prefix ${this.where})` });
  }

  get sealing(): boolean {
    return this.o.key !== undefined;
  }

  async get(name: string): Promise<string | undefined> {
    checkName(name);
    const kv = (await this.client.range(`${this.where}${name}`)).kvs[0];
    return kv && unseal(this.o.key, kv.key, kv.value);
  }

  async put(name: string, value: string, fences: readonly Fence[] = []): Promise<void> {
    checkName(name);
    const key = `${this.where}${name}`;
    // read, check what would be replaced, then write only if nothing changed in between (and every fence holds)
    for (let round = 0; round < 5; round++) {
      const cur = (await this.client.range(key)).kvs[0];
      if (cur) this.mayReplace(key, cur.value);
      const stored = this.o.key ? seal(this.o.key, key, value) : value;
      const compare = [{ key, target: 'MOD' as const, equals: cur?.modRevision ?? 0 }, ...fences.map((f) => ({ key: f.key, target: 'CREATE' as const, equals: f.createRevision }))];
      const r = await this.client.txn(compare, [{ put: { key, value: stored } }], fences.map((f) => ({ range: { key: f.key } })));
      if (r.succeeded) return;
      const broken = fences.find((f, i) => (r.ranges[i]?.kvs[0]?.createRevision ?? 0) !== f.createRevision);
      if (broken) throw new FencedError(`saving secret ${name}`, `${broken.key} no longer holds revision ${broken.createRevision}`, 'this process no longer holds the leadership or lock it worked under');
    }
    throw new StateError('STATE_CONFLICT', `${key}: 5 writes in a row lost to concurrent writers; try again`);
  }

  async exclusive<T>(name: string, fn: (hold: LockHold) => Promise<T>, timeoutMs: number, opts: { onWait?: (holder: string) => void; signal?: AbortSignal } = {}): Promise<T> {
    checkName(name);
    return withEtcdLock({ endpoints: this.endpoints, key: `${this.prefix}locks/${name}`, ttlS: this.o.lockTtlS ?? 10, timeoutMs, onWait: opts.onWait, signal: opts.signal }, fn);
  }

  async plaintextNames(): Promise<string[]> {
    const r = await this.client.range(this.where, { rangeEnd: prefixEnd(this.where) });
    return r.kvs.filter((kv) => !sealedWith(kv.value)).map((kv) => kv.key.slice(this.where.length)).filter((n) => NAME.test(n)).sort();
  }

  /** Throws SecretsKeyError when `stored` is sealed with a key other than ours (or we have none). */
  private mayReplace(key: string, stored: string): void {
    const was = sealedWith(stored);
    if (!was) return;
    if (!this.o.key) throw new SecretsKeyError('SECRETS_KEY_MISSING', `refusing to replace ${key}, sealed with the key in ${was.key} (id ${was.kid}), by a plaintext value: set state.secretsKeyEnv and that variable`);
    if (was.kid !== this.o.key.id) throw new SecretsKeyError('SECRETS_KEY_WRONG', `refusing to replace ${key}, sealed with key id ${was.kid} (from ${was.key}), by one sealed with key id ${this.o.key.id} from ${this.o.key.name}: every controller must hold the same key`);
  }
}

/**
 * The secrets area of the store the spec names (the same directory or etcd prefix as openStore). With
 * `state.secretsKeyEnv` the key is read from `env` now: unset or malformed is a SecretsKeyError (exit 2).
 */
export function openSecretStore(spec: Pick<FleetSpec, 'stack' | 'state'>, env: NodeJS.ProcessEnv = process.env): SecretStore {
  if (spec.state.kind === 'etcd') {
    const keyEnv = spec.state.secretsKeyEnv;
    return new EtcdSecretStore(spec.state.endpoints, `/flotilla/${spec.stack}/`, {
      key: keyEnv ? secretsKeyFrom(keyEnv, env[keyEnv]) : undefined,
      lockTtlS: Math.max(2, Math.round((spec.state.leaseMs ?? 10_000) / 1000)),
    });
  }
  return new FileSecretStore(spec.state.path);
}
