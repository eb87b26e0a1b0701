/**
 * What the token, invite and audit commands ask of mediagate. The local one
 * works on this machine's stores; the remote one (src/client/admin.ts) asks a
 * `mediagate serve` over its admin API. The commands render the results with
 * the same code for both, so `--remote` changes where, not what is printed.
 */
import { stateDir } from './paths.js';
import { InviteStore, type CreatedInvite, type InviteInfo } from './invites.js';
import { TokenStore, type CreatedToken, type TokenInfo } from './tokens.js';
import type { Scope } from './scopes.js';
import { nullAudit, type AuditSink } from './audit/types.js';
import { readAudit, verifyAudit, type AuditQuery, type AuditRecord, type VerifyResult } from './audit/log.js';

export type RevokedToken = TokenInfo & { alreadyRevoked: boolean };
export type RevokedInvite = InviteInfo & { alreadyRevoked: boolean };

export interface NewToken {
  label: string;
  scope: Scope;
  /** Duration as typed (`30d`, `never`), or null for never. */
  expiresIn: string | null;
}

export interface NewInvite {
  label: string;
  scope: Scope;
  uses: number;
  /** Duration as typed (`1d`, `90m`). */
  expiresIn: string;
}

export interface AdminApi {
  createToken(input: NewToken): Promise<CreatedToken>;
  listTokens(opts: { all: boolean }): Promise<TokenInfo[]>;
  revokeToken(idOrLabel: string): Promise<RevokedToken>;
  rotateToken(id: string): Promise<CreatedToken>;
  createInvite(input: NewInvite): Promise<CreatedInvite>;
  listInvites(opts: { all: boolean }): Promise<InviteInfo[]>;
  revokeInvite(id: string): Promise<RevokedInvite>;
  rotateInvite(id: string): Promise<CreatedInvite>;
  readAudit(query: AuditQuery): Promise<AuditRecord[]>;
  verifyAudit(): Promise<VerifyResult>;
}

/** Runs a change with an audit sink open and flushed around it. */
export type AuditScope = <T>(fn: (audit: AuditSink) => Promise<T>) => Promise<T>;

/** The stores on this machine, acting as the local user. */
export class LocalAdmin implements AdminApi {
  private readonly env: NodeJS.ProcessEnv;
  private readonly now: () => Date;
  private readonly audited: AuditScope;

  /** `audited` opens the audit log for changes (reads never touch it); default: no audit. */
  constructor(opts: { env: NodeJS.ProcessEnv; now?: () => Date; audited?: AuditScope }) {
    this.env = opts.env;
    this.now = opts.now ?? (() => new Date());
    this.audited = opts.audited ?? ((fn) => fn(nullAudit));
  }

  private tokens(audit?: AuditSink): TokenStore {
    return new TokenStore({ env: this.env, now: this.now, ...(audit ? { audit } : {}) });
  }

  private invites(audit?: AuditSink): InviteStore {
    return new InviteStore({ env: this.env, now: this.now, ...(audit ? { audit } : {}) });
  }

  createToken(input: NewToken): Promise<CreatedToken> {
    return this.audited((audit) => this.tokens(audit).create({ label: input.label, scope: input.scope, expiresIn: input.expiresIn }));
  }

  async listTokens(opts: { all: boolean }): Promise<TokenInfo[]> {
    return this.tokens().list({ all: opts.all });
  }

  revokeToken(idOrLabel: string): Promise<RevokedToken> {
    return this.audited((audit) => this.tokens(audit).revoke(idOrLabel));
  }

  rotateToken(id: string): Promise<CreatedToken> {
    return this.audited((audit) => this.tokens(audit).rotate(id));
  }

  createInvite(input: NewInvite): Promise<CreatedInvite> {
    return this.audited((audit) => this.invites(audit).create({ label: input.label, scope: input.scope, uses: input.uses, expiresIn: input.expiresIn }));
  }

  async listInvites(opts: { all: boolean }): Promise<InviteInfo[]> {
    return this.invites().list({ all: opts.all });
  }

  revokeInvite(id: string): Promise<RevokedInvite> {
    return this.audited((audit) => this.invites(audit).revoke(id));
  }

  rotateInvite(id: string): Promise<CreatedInvite> {
    return this.audited((audit) => this.invites(audit).rotate(id));
  }

  readAudit(query: AuditQuery): Promise<AuditRecord[]> {
    return readAudit(stateDir(this.env), query);
  }

  verifyAudit(): Promise<VerifyResult> {
    return verifyAudit(stateDir(this.env));
  }
}
