/**
 * `npm test` runs this first (pretest): installs, from Debian, every real server the suite starts, when missing.
 * Individual test files call ensurePackages too, so running one file alone also works on a fresh machine.
 */
import { ensurePackages, PackageInstallError } from './ensure-packages.ts';

export const TEST_PACKAGES: Record<string, string> = {
  dig: 'dnsutils',
  nsupdate: 'bind9-dnsutils',
  named: 'bind9',
  knotd: 'knot',
  pdns_server: 'pdns-server',
  sqlite3: 'sqlite3',
  openssl: 'openssl',
  '/usr/bin/chromium': 'chromium',
  etcd: 'etcd-server',
  strace: 'strace',
};

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  try {
    // the sqlite backend has no binary of its own to look for
    ensurePackages({ ...TEST_PACKAGES, '/usr/share/doc/pdns-backend-sqlite3': 'pdns-backend-sqlite3' });
  } catch (e) {
    if (!(e instanceof PackageInstallError)) throw e;
    process.stderr.write(`npm test: ${e.message}\n`);
    process.exit(1);
  }
  console.log('test dependencies present');
}
