/**
 * The TSIG algorithms flotilla signs and verifies with (RFC 8945 §6), as data: settings schemas read it without
 * loading the wire code (the CLI imports only what the command runs).
 */
export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha512', 'hmac-sha1'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];
