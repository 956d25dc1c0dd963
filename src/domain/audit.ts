/** One line of the append-only audit log. */
export interface AuditEvent {
  at: number;
  /** decision | apply | apply-error | verify | override | override-expired | fail-open | fail-static | error | daemon | delegation */
  kind: string;
  message: string;
  actor?: string;
  data?: Record<string, unknown>;
}
