import { z } from 'zod';
import { hostPort } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of a local provider (the embedded DNS server). */
export const localSettings = z
  .object({
    /** Address the embedded DNS server listens on (loopback for the demo). */
    listen: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(5353),
    /** Directory holding the zone files the embedded server serves. */
    zoneDir: z.string().optional().describe('default `<state.path>/zones`'),
    nameservers: z.array(hostPort).optional(),
  })
  .strict();

export type LocalSettings = z.infer<typeof localSettings>;
