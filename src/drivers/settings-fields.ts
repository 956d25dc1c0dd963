import { z } from 'zod';

/** Field schemas shared by the providers' settings. Secrets are never values: an `*Env` field names the variable. */
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. CF_API_TOKEN');
export const hostPort = z.string().regex(/^[^\s:]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/, 'host or host:port');
