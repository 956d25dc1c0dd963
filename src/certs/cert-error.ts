import { FlotillaError } from '../domain/errors.ts';

/** A certificate could not be issued or deployed. `code`: CERT_DNS (a challenge not published or seen everywhere), CERT_CA (the CA refused or failed), CERT_DEPLOY (a mirror did not take it). */
export class CertError extends FlotillaError {
  constructor(code: 'CERT_DNS' | 'CERT_CA' | 'CERT_DEPLOY', message: string, opts: { cause?: unknown } = {}) {
    super(code, message, { exitCode: 1, cause: opts.cause });
  }
}
