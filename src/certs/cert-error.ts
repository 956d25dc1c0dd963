import { FlotillaError } from '../domain/errors.ts';

/** A certificate could not be issued or deployed. `code`: CERT_DNS (a challenge not published or seen everywhere), CERT_CA (the CA refused or failed), CERT_DEPLOY (a mirror did not take it), CERT_HOST_KEY (a mirror's SSH host key is not the pinned one). */
export class CertError extends FlotillaError {
  constructor(code: 'CERT_DNS' | 'CERT_CA' | 'CERT_DEPLOY' | 'CERT_HOST_KEY', message: string, opts: { cause?: unknown } = {}) {
    super(code, message, { exitCode: 1, cause: opts.cause });
  }
}
