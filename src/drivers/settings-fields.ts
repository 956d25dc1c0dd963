import { isIP } from 'node:net';
import { z } from 'zod';

/** Field schemas shared by the providers' settings. Secrets are never values: an `*Env` field names the variable. */
export { envVarName as envName, hostPort } from '../domain/setting-values.ts';

/** An IP address or a CIDR block (`192.0.2.0/24`, `2001:db8::/48`). */
export const cidr = z.string().refine((v) => {
  const [addr, bits, ...rest] = v.split('/');
  const family = isIP(addr);
  return family !== 0 && rest.length === 0 && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)));
}, 'an IP address or CIDR, e.g. 192.0.2.0/24 or 2001:db8::/48');
