/**
 * RemoteAdmin: the AdminApi (src/core/admin.ts) over the admin routes of a
 * `mediagate serve`. The server answers the same JSON as the CLI's --json
 * output of the matching command, so the commands render it with the same
 * code as local results.
 *
 *   GET /api/tokens[?all=true]      POST /api/tokens {label, scope, expiresIn?}
 *   DELETE /api/tokens/{idOrLabel}  POST /api/tokens/{id}/rotate
 *   GET /api/invites[?all=true]     POST /api/invites {label, scope, uses, expiresIn}
 *   DELETE /api/invites/{id}        POST /api/invites/{id}/rotate
 *   GET /api/audit?since&actor&action&outcome&limit
 *   GET /api/audit/verify
 */
import type { AdminApi, NewInvite, NewToken, RevokedInvite, RevokedToken } from '../core/admin.js';
import type { AuditQuery, AuditRecord, VerifyResult } from '../core/audit/log.js';
import { UnreachableError } from '../core/errors.js';
import type { CreatedInvite, InviteInfo } from '../core/invites.js';
import type { CreatedToken, TokenInfo } from '../core/tokens.js';
import { seg, type ApiClient } from './http.js';

type Json = Record<string, unknown>;

export class RemoteAdmin implements AdminApi {
  constructor(private readonly api: ApiClient) {}

  private bad(what: string): UnreachableError {
    return new UnreachableError(`${this.api.server} sent an answer mediagate does not understand (${what})`,
      'the server may run a different mediagate version', 'remote.bad_response');
  }

  /** A list answer: a bare array, or (tolerated) `{<key>: [...]}`. */
  private list<T>(j: unknown, key: string): T[] {
    if (Array.isArray(j)) return j as T[];
    const inner = (j as Json | undefined)?.[key];
    if (Array.isArray(inner)) return inner as T[];
    throw this.bad(key);
  }

  private record<T>(j: Json, what: string, fields: string[]): T {
    for (const f of fields) if (!(f in j)) throw this.bad(`${what} without ${f}`);
    return j as T;
  }

  async createToken(input: NewToken): Promise<CreatedToken> {
    const j = await this.api.post<Json>('/api/tokens', { label: input.label, scope: input.scope, ...(input.expiresIn !== null ? { expiresIn: input.expiresIn } : {}) });
    return this.record(j, 'token', ['id', 'token', 'label', 'scope']);
  }

  async listTokens(opts: { all: boolean }): Promise<TokenInfo[]> {
    return this.list(await this.api.get('/api/tokens', opts.all ? { all: 'true' } : undefined), 'tokens');
  }

  async revokeToken(idOrLabel: string): Promise<RevokedToken> {
    return this.record(await this.api.delete<Json>(`/api/tokens/${seg(idOrLabel)}`), 'revoked token', ['id', 'label']);
  }

  async rotateToken(id: string): Promise<CreatedToken> {
    return this.record(await this.api.post<Json>(`/api/tokens/${seg(id)}/rotate`), 'token', ['id', 'token', 'label', 'scope']);
  }

  async createInvite(input: NewInvite): Promise<CreatedInvite> {
    const j = await this.api.post<Json>('/api/invites', { label: input.label, scope: input.scope, uses: input.uses, expiresIn: input.expiresIn });
    return this.normalInvite(this.record(j, 'invite', ['id', 'code', 'link', 'label', 'scope']));
  }

  async listInvites(opts: { all: boolean }): Promise<InviteInfo[]> {
    return this.list(await this.api.get('/api/invites', opts.all ? { all: 'true' } : undefined), 'invites');
  }

  async revokeInvite(id: string): Promise<RevokedInvite> {
    return this.record(await this.api.delete<Json>(`/api/invites/${seg(id)}`), 'revoked invite', ['id', 'label']);
  }

  async rotateInvite(id: string): Promise<CreatedInvite> {
    return this.normalInvite(this.record(await this.api.post<Json>(`/api/invites/${seg(id)}/rotate`), 'invite', ['id', 'code', 'link', 'label', 'scope']));
  }

  private normalInvite(c: CreatedInvite): CreatedInvite {
    return { ...c, superseded: Array.isArray(c.superseded) ? c.superseded : [] };
  }

  async readAudit(q: AuditQuery): Promise<AuditRecord[]> {
    const j = await this.api.get('/api/audit', {
      since: q.since?.toISOString(),
      actor: q.actor,
      action: q.action,
      outcome: q.outcome,
      limit: q.limit,
    });
    return this.list(j, 'events');
  }

  async verifyAudit(): Promise<VerifyResult> {
    const j = await this.api.get<Json>('/api/audit/verify');
    if (typeof j.ok !== 'boolean') throw this.bad('audit verify');
    return j as unknown as VerifyResult;
  }
}
