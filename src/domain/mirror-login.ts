import type { FleetSpec, MirrorSpec } from './fleet-spec.ts';

/**
 * How flotilla logs in to a mirror over SSH: the one rule shared by the Pulumi program's deploy step (src/infra) and
 * the certificate deploy (src/certs), so both reach the same user with the same key.
 */

/** The environment variable of the stack's deploy key when `deploy:` names none (cloud hosts get its public half). */
export const DEFAULT_DEPLOY_KEY_ENV = 'FLOTILLA_DEPLOY_KEY';

/**
 * The login user: `sshUser` when set; else aws: the official image's default user that cloud-init gives the key
 * (Debian `admin`, Ubuntu `ubuntu`; an AMI id: admin); hcloud and ssh: root (Hetzner gives the key to root). Pure.
 */
export function mirrorSshUser(m: Pick<MirrorSpec, 'provider' | 'settings'>): string {
  if (typeof m.settings.sshUser === 'string' && m.settings.sshUser !== '') return m.settings.sshUser;
  if (m.provider === 'aws') return String(m.settings.image ?? 'debian').toLowerCase().startsWith('ubuntu') ? 'ubuntu' : 'admin';
  return 'root';
}

/** The environment variable holding the private key: an ssh mirror's own `sshKeyEnv`, a cloud host's the stack's deploy key. Pure. */
export function mirrorSshKeyEnv(m: Pick<MirrorSpec, 'provider' | 'settings'>, spec: Pick<FleetSpec, 'deploy'>): string | undefined {
  if (m.provider === 'aws' || m.provider === 'hcloud') return spec.deploy?.sshKeyEnv ?? DEFAULT_DEPLOY_KEY_ENV;
  const own = m.settings.sshKeyEnv;
  return typeof own === 'string' && own !== '' ? own : undefined;
}
