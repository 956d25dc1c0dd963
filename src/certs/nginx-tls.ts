/**
 * The nginx configuration of a mirror serving HTTPS (pure text): port 443 with HTTP/2 for every name of the site,
 * the site's files from the web root; port 80 redirects to https except `/.well-known/` (served from the web root,
 * so HTTP-01 challenges, security.txt and the signed manifest still answer over plain HTTP).
 */
export interface TlsSiteOptions {
  /** The names of the certificate (the domain first). */
  names: string[];
  certPath: string;
  keyPath: string;
  webRoot: string;
  /** `listen` targets; default 443 and 80 on IPv4 and IPv6. Tests give `127.0.0.1:PORT`. */
  httpsListen?: string[];
  httpListen?: string[];
}

export function nginxTlsConfig(o: TlsSiteOptions): string {
  const https = o.httpsListen ?? ['443', '[::]:443'];
  const http = o.httpListen ?? ['80', '[::]:80'];
  const names = o.names.join(' ');
  return [
    '# written by flotilla certs deploy; replaced on every deploy',
    'server {',
    // `listen ... ssl http2` (nginx before 1.25.1 has no `http2 on;`, Debian 12 ships 1.22)
    ...https.map((l) => `    listen ${l} ssl http2;`),
    `    server_name ${names};`,
    `    ssl_certificate ${o.certPath};`,
    `    ssl_certificate_key ${o.keyPath};`,
    '    ssl_protocols TLSv1.2 TLSv1.3;',
    '    ssl_session_cache shared:flotilla_tls:1m;',
    `    root ${o.webRoot};`,
    '    index index.html;',
    '    location / {',
    '        try_files $uri $uri/ =404;',
    '    }',
    '}',
    'server {',
    ...http.map((l) => `    listen ${l};`),
    `    server_name ${names};`,
    `    root ${o.webRoot};`,
    '    location /.well-known/ {',
    '        try_files $uri =404;',
    '    }',
    '    location / {',
    '        return 301 https://$host$request_uri;',
    '    }',
    '}',
    '',
  ].join('\n');
}
