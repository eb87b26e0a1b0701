/** The shape of one audit event, as callers hand it in (the log adds time, seq and hashes). */
export type AuditOutcome = 'ok' | 'denied' | 'error';

export interface AuditActor {
  /** `local:<user>` for the CLI, `token:<id>` for a server client, `anonymous` before auth. */
  id: string;
  label?: string;
}

export interface AuditEventInput {
  actor: AuditActor;
  /** Dotted verb: `token.create`, `invite.redeem`, `player.pause`, `auth.failure`, `config.set` … */
  action: string;
  /** What it acted on: a token id, invite id, player name, config key. Never a secret. */
  target?: string;
  outcome: AuditOutcome;
  ip?: string;
  requestId?: string;
  /** Short free text. Never a secret, code or token. */
  detail?: string;
}

/** Where core code sends audit events. Must not block the caller or throw. */
export interface AuditSink {
  append(event: AuditEventInput): void;
  /**
   * Optional hint that an event will follow (a control action is starting):
   * a sink that loads its writer lazily can do it now, while the action waits
   * on a player or mixer, instead of after it.
   */
  prepare?(): void;
}

/** A sink that drops events (for pure unit tests). */
export const nullAudit: AuditSink = { append() { /* dropped */ } };
