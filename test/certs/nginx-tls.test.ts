import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { deployScript } from '../../src/certs/deploy-script.ts';
import { nginxTlsConfig } from '../../src/certs/nginx-tls.ts';

describe('nginx TLS site and deploy script (text)', () => {
  const conf = nginxTlsConfig({ names: ['a.test', 'b.test'], certPath: '/etc/flotilla/tls/site.crt', keyPath: '/etc/flotilla/tls/site.key', webRoot: '/var/www/flotilla' });
  it('443 with HTTP/2 on both families for every name; 80 redirects except /.well-known/', () => {
    assert.match(conf, /listen 443 ssl http2;/);
    assert.match(conf, /listen \[::\]:443 ssl http2;/);
    assert.match(conf, /server_name a\.test b\.test;/);
    assert.match(conf, /ssl_certificate \/etc\/flotilla\/tls\/site\.crt;/);
    assert.match(conf, /location \/\.well-known\/ \{\s+try_files \$uri =404;/);
    assert.match(conf, /return 301 https:\/\/\$host\$request_uri;/);
  });
  it('the deploy script is valid sh, keeps the key out of argv-visible lines, and tests before it reloads', () => {
    const s = deployScript({ dir: '/etc/flotilla/tls', nginxConf: '/etc/nginx/conf.d/flotilla-tls.conf', nginx: 'nginx', cert: 'CERT\n', key: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n', config: conf });
    assert.equal(spawnSync('sh', ['-n'], { input: s }).status, 0);
    assert.ok(s.indexOf('$NGINX -t') < s.indexOf('$NGINX -s reload'));
    assert.match(s, /umask 077/);
    assert.match(s, /then restore;/);
  });
});
