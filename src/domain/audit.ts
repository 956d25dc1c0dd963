/** Every kind of audit event flotilla writes (for filters and their errors). */
export const AUDIT_KINDS = ['decision', 'apply', 'apply-error', 'verify', 'flip', 'fail-open', 'fail-static', 'conflict', 'override', 'override-expired', 'store', 'store-error', 'error', 'daemon', 'delegation', 'deplatformed', 'manifest', 'inventory', 'cert', 'cert-error'] as const;

/** One line of the append-only audit log. */
export interface AuditEvent {
  at: number;
  /** One of AUDIT_KINDS. */
  kind: string;
  message: string;
  actor?: string;
  data?: Record<string, unknown>;
}
