/** Names of the systems compared, as the tables print them. */
export const SYSTEMS = {
  f250: 'flotilla 250ms/fall 3',
  f2s: 'flotilla 2s/fall 3',
  f250nofast: 'flotilla 250ms/fall 3, no fast re-probe',
  gdnsd: 'gdnsd (2s, down_thresh 3)',
  lua: 'PowerDNS LUA ifurlup (1s)',
} as const;
