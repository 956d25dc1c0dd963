import { GetDomainDetailCommand, GetOperationDetailCommand, Route53DomainsClient, UpdateDomainNameserversCommand } from '@aws-sdk/client-route-53-domains';
import { parseDuration } from '../../domain/duration.ts';
import { DriverError } from '../../domain/errors.ts';
import type { RegistrarDriver } from '../registrar-driver.ts';
import { ROUTE53DOMAINS_MAX_NAMESERVERS, type Route53DomainsRegistrarSettings } from './route53domains-registrar-settings.ts';

const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');

/**
 * A domain registered at Route 53 Domains: GetDomainDetail reads the delegation, UpdateDomainNameservers replaces it
 * and GetOperationDetail is polled until the operation is SUCCESSFUL (ERROR / FAILED / timeout throw DriverError).
 */
export function createRoute53DomainsRegistrar(o: { name: string; settings: Route53DomainsRegistrarSettings; sleep?: (ms: number) => Promise<void> }): RegistrarDriver {
  const client = new Route53DomainsClient({ region: o.settings.region, ...(o.settings.endpoint ? { endpoint: o.settings.endpoint } : {}), maxAttempts: 2 });
  const pollMs = parseDuration(o.settings.pollInterval) ?? 2000;
  const timeoutMs = parseDuration(o.settings.operationTimeout) ?? 600_000;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const fail = (zone: string, what: string, e: unknown): DriverError => {
    if (e instanceof DriverError) return e;
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const code = err.name === 'CredentialsProviderError' || err.$metadata?.httpStatusCode === 403 ? 'DRIVER_AUTH' : err.name === 'OperationLimitExceeded' || err.name === 'ThrottlingException' ? 'DRIVER_RATE_LIMITED' : 'DRIVER_FAILED';
    return new DriverError({ code, provider: o.name, zone, message: `${what}: ${err.name ?? 'Error'}: ${err.message ?? String(e)}`, cause: e });
  };
  return {
    name: o.name,
    kind: 'route53domains',
    maxNameservers: ROUTE53DOMAINS_MAX_NAMESERVERS,
    async getNameservers(domain, signal) {
      try {
        const d = await client.send(new GetDomainDetailCommand({ DomainName: norm(domain) }), { abortSignal: signal });
        return [...new Set((d.Nameservers ?? []).map((n) => norm(n.Name ?? '')).filter(Boolean))].sort();
      } catch (e) {
        throw fail(domain, 'GetDomainDetail', e);
      }
    },
    async setNameservers(domain, nameservers, signal) {
      const list = [...new Set(nameservers.map(norm))].sort();
      if (list.length === 0 || list.length > ROUTE53DOMAINS_MAX_NAMESERVERS)
        throw new DriverError({ code: 'DRIVER_FAILED', provider: o.name, zone: domain, message: `Route 53 Domains takes 1 to ${ROUTE53DOMAINS_MAX_NAMESERVERS} nameservers, ${list.length} given` });
      let opId: string | undefined;
      try {
        opId = (await client.send(new UpdateDomainNameserversCommand({ DomainName: norm(domain), Nameservers: list.map((Name) => ({ Name })) }), { abortSignal: signal })).OperationId;
      } catch (e) {
        throw fail(domain, 'UpdateDomainNameservers', e);
      }
      if (!opId) throw new DriverError({ code: 'DRIVER_FAILED', provider: o.name, zone: domain, message: 'UpdateDomainNameservers returned no OperationId' });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let status: string | undefined;
        let message: string | undefined;
        try {
          const op = await client.send(new GetOperationDetailCommand({ OperationId: opId }), { abortSignal: signal });
          status = op.Status;
          message = op.Message;
        } catch (e) {
          throw fail(domain, `GetOperationDetail ${opId}`, e);
        }
        if (status === 'SUCCESSFUL') return;
        if (status === 'ERROR' || status === 'FAILED') throw new DriverError({ code: 'DRIVER_FAILED', provider: o.name, zone: domain, message: `nameserver update ${opId} ${status}${message ? `: ${message}` : ''}` });
        if (Date.now() >= deadline) throw new DriverError({ code: 'DRIVER_FAILED', provider: o.name, zone: domain, message: `nameserver update ${opId} still ${status ?? 'unknown'} after ${o.settings.operationTimeout}`, retryable: true });
        if (signal?.aborted) throw new DriverError({ code: 'DRIVER_FAILED', provider: o.name, zone: domain, message: `nameserver update ${opId}: aborted while ${status}` });
        await sleep(pollMs);
      }
    },
    close: async () => client.destroy(),
  };
}
