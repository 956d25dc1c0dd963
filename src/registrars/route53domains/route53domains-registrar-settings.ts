import { z } from 'zod';
import { REGISTRAR_MAX_NAMESERVERS } from '../../domain/fleet-spec.ts';
import { durationText, httpUrl } from '../../domain/setting-values.ts';

/**
 * `registrars[i].settings` of a route53domains registrar (all optional). Credentials come from the AWS SDK's default
 * chain (environment, shared config, instance role), never from the stack file. `endpoint` lets tests point the
 * registrar at a contract fake.
 */
export const route53DomainsRegistrarSettings = z
  .object({
    /** The Route 53 Domains API lives in us-east-1 only. */
    region: z.string().regex(/^[a-z]{2}-[a-z]+-\d$/, 'expected an AWS region like us-east-1').default('us-east-1'),
    endpoint: httpUrl('the AWS default credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, an instance role)').optional(),
    /** How often GetOperationDetail is asked while a nameserver update is in progress. */
    pollInterval: durationText(10, 60_000).default('2s'),
    /** How long an update may stay SUBMITTED / IN_PROGRESS before it counts as failed. */
    operationTimeout: durationText(1_000, 3_600_000).default('10m'),
  })
  .strict();
export type Route53DomainsRegistrarSettings = z.infer<typeof route53DomainsRegistrarSettings>;

/** Route 53 Domains accepts at most six nameservers per domain (UpdateDomainNameservers). */
export const ROUTE53DOMAINS_MAX_NAMESERVERS = REGISTRAR_MAX_NAMESERVERS.route53domains!;
