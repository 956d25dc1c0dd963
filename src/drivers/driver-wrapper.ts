import type { DnsDriver } from './dns-driver.ts';

/**
 * A driver that is `driver` in everything except the list and apply operations given: the one shape of the wrappers
 * around a driver (retry, write budget, fence), so none of them can forget to pass an operation through.
 */
export function wrapDriver(driver: DnsDriver, over: Partial<Pick<DnsDriver, 'listRecords' | 'applyChanges'>>): DnsDriver {
  return {
    get kind() { return driver.kind; },
    get name() { return driver.name; },
    get capabilities() { return driver.capabilities; },
    listRecords: over.listRecords ?? ((zone, signal) => driver.listRecords(zone, signal)),
    applyChanges: over.applyChanges ?? ((zone, changes, signal) => driver.applyChanges(zone, changes, signal)),
    writeRequests: (zone, changes) => driver.writeRequests(zone, changes),
    nameservers: (zone) => driver.nameservers(zone),
    close: driver.close ? () => driver.close!() : undefined,
  };
}
