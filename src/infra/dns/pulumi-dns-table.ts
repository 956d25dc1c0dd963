import type { PulumiDnsKind } from '../../drivers/registry.ts';
import { cloudflarePulumi } from './cloudflare.ts';
import { hcloudPulumi } from './hcloud.ts';
import type { PulumiDnsHalf } from './pulumi-dns-half.ts';
import { route53Pulumi } from './route53.ts';

/**
 * The Pulumi half of every kind whose descriptor says `zones: 'pulumi'`. The compiler checks it both ways: a kind
 * marked for Pulumi without a half here, or a half here for a kind the descriptor leaves to the operator, fails.
 */
export const PULUMI_DNS = {
  cloudflare: cloudflarePulumi,
  route53: route53Pulumi,
  hcloud: hcloudPulumi,
} satisfies Record<PulumiDnsKind, PulumiDnsHalf>;
