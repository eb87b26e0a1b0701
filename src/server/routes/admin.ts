/**
 * Admin routes: tokens, invites and the audit log. Each answers the same
 * JSON as the CLI command with --json (src/server/shapes.ts). Token and
 * invite changes are audited by the core stores, with the caller as actor.
 *
 * Creation (POST /api/tokens, POST /api/invites, and the rotations, which
 * mint a new secret too) is limited to 5 a minute per calling token — per
 * principal rather than per address, so one admin token cannot mint faster
 * from many addresses, and a shared NAT does not throttle unrelated admins.
 */
import { readAudit, verifyAudit, type AuditQuery } from '../../core/audit/log.js';
import { parseSince } from '../../core/audit/since.js';
import type { AuditOutcome } from '../../core/audit/types.js';
import { ApiError } from '../respond.js';
import { createdInviteJson, createdTokenJson, inviteInfoJson, revokedInviteJson, revokedTokenJson, tokenInfoJson } from '../shapes.js';
import { FLAG, json } from '../contract/fields.js';
import { arr, int, obj, oneOfStrings, ref, str, X_ERROR } from '../contract/json-schema.js';
import type { ApiRoute, Call, RouteContract } from './types.js';

/** Default and largest number of audit events one GET /api/audit answers. */
export const AUDIT_DEFAULT_LIMIT = 1000;
export const AUDIT_MAX_LIMIT = 10_000;

/** 429 when this principal has created 5 things in the last minute. */
function creationAllowed(c: Call): void {
  const r = c.app.creation.check(`creation:${c.principal!.id}`);
  if (r.allowed) return;
  c.app.auth.deniedGated(c.actor, 'rate_limit.creation', { ip: c.ip, requestId: c.requestId, target: c.target }, 'token/invite creation limit (5 a minute)');
  throw new ApiError(429, 'rate_limit.exceeded', 'too many tokens or invites created in the last minute', {
    retryAfterSeconds: r.retryAfterSeconds, hint: 'at most 5 creations or rotations a minute per token',
  });
}

function allFlag(c: Call): boolean {
  return c.args.all === true;
}

function listTokens(c: Call) {
  return c.app.tokens.list({ all: allFlag(c) }).map(tokenInfoJson);
}

async function createToken(c: Call) {
  const { label, scope, expiresIn } = await c.body() as { label: string; scope: string; expiresIn?: string };
  creationAllowed(c);
  return createdTokenJson(await c.app.tokens.create({ label, scope, expiresIn: expiresIn ?? null }, c.auditContext()));
}

async function revokeToken(c: Call) {
  const r = await c.app.tokens.revoke(c.params.idOrLabel!, c.auditContext());
  c.app.auth.tokensChanged();
  return revokedTokenJson(r);
}

async function rotateToken(c: Call) {
  creationAllowed(c);
  const r = await c.app.tokens.rotate(c.params.id!, c.auditContext());
  c.app.auth.tokensChanged();
  return createdTokenJson(r);
}

function listInvites(c: Call) {
  return c.app.invites.list({ all: allFlag(c) }).map(inviteInfoJson);
}

async function createInvite(c: Call) {
  const { label, scope, uses, expiresIn } = await c.body() as { label: string; scope: string; uses?: number; expiresIn?: string };
  creationAllowed(c);
  return createdInviteJson(await c.app.invites.create({ label, scope, ...(uses !== undefined ? { uses } : {}), ...(expiresIn !== undefined ? { expiresIn } : {}) }, c.auditContext()));
}

async function revokeInvite(c: Call) {
  return revokedInviteJson(await c.app.invites.revoke(c.params.id!, c.auditContext()));
}

async function rotateInvite(c: Call) {
  creationAllowed(c);
  return createdInviteJson(await c.app.invites.rotate(c.params.id!, c.auditContext()));
}

/** GET /api/audit?since&actor&action&outcome&limit — the same filters as `mediagate audit`. */
async function listAudit(c: Call) {
  const a = c.args as { since?: string; actor?: string; action?: string; outcome?: AuditOutcome; limit?: number };
  const q: AuditQuery = { limit: a.limit ?? AUDIT_DEFAULT_LIMIT };
  if (a.since !== undefined) q.since = parseSince(a.since);
  if (a.actor !== undefined) q.actor = a.actor;
  if (a.action !== undefined) q.action = a.action;
  if (a.outcome !== undefined) q.outcome = a.outcome;
  // Events this server queued are written first, so the answer includes them.
  await c.app.audit.flush();
  return readAudit(c.app.stateDir, q);
}

/** GET /api/audit/verify — the same JSON as `audit verify --json` (200 either way; `ok` says). */
async function verify(c: Call) {
  await c.app.audit.flush();
  return verifyAudit(c.app.stateDir);
}

const LABEL = str(256, 'a name that says who or what holds it');
const SCOPE = str(32, 'read, control or admin');
const EXPIRES_IN = str(32, 'a duration: 30m, 12h, 30d');
const ALL = { all: { ...FLAG, description: 'revoked and expired ones too' } };

const CREATE_TOKEN: RouteContract = {
  summary: 'Create a token (the secret is in this answer only)',
  description: 'The same JSON as `token create --json`. At most 5 creations or rotations a minute per calling token.',
  request: { body: { schema: obj({ label: LABEL, scope: SCOPE, expiresIn: { ...EXPIRES_IN, description: `${EXPIRES_IN.description} (default: never)` } }, ['label', 'scope']) } },
  answers: { 200: json('CreatedToken') },
};

const CREATE_INVITE: RouteContract = {
  summary: 'Create an invite (the code is in this answer only)',
  description: 'The same JSON as `invite create --json`; a new invite supersedes the active one of the same label. At most 5 creations or rotations a minute per calling token.',
  request: {
    body: {
      schema: obj({
        label: LABEL, scope: SCOPE,
        uses: int(1, 100, 'how many devices may redeem it (default 5)'),
        expiresIn: { ...EXPIRES_IN, description: `${EXPIRES_IN.description} (default 1d)` },
      }, ['label', 'scope']),
    },
  },
  answers: { 200: json('CreatedInvite') },
};

const AUDIT: RouteContract = {
  summary: 'Audit events, oldest first: the same filters and JSON as `mediagate audit --json`',
  request: {
    query: {
      since: str(64, 'a duration ago (30m, 1h, 7d) or an ISO time'),
      actor: str(256, 'an actor id (local:alice, token:tok_…) or label; token: for every token'),
      action: str(64, 'an action or action prefix: token, token.create, auth.failure'),
      outcome: oneOfStrings(['ok', 'denied', 'error'], { [X_ERROR]: { hint: 'use ok, denied or error' } }),
      limit: int(1, AUDIT_MAX_LIMIT, { description: `only the newest N matching events (default ${AUDIT_DEFAULT_LIMIT})`, [X_ERROR]: { hint: `use a whole number from 1 to ${AUDIT_MAX_LIMIT}` } }),
    },
  },
  answers: { 200: { json: arr(ref('AuditEvent')) } },
};

const ID = { id: str(256, 'the id (tok_…, inv_…)') };

export const ADMIN_ROUTES: ApiRoute[] = [
  {
    method: 'GET', path: '/api/tokens', scope: 'admin', handler: listTokens,
    contract: { summary: 'List tokens (never a secret)', request: { query: ALL }, answers: { 200: { json: arr(ref('TokenInfo')) } } },
  },
  { method: 'POST', path: '/api/tokens', scope: 'admin', handler: createToken, contract: CREATE_TOKEN },
  {
    method: 'DELETE', path: '/api/tokens/{idOrLabel}', scope: 'admin', handler: revokeToken,
    contract: {
      summary: 'Revoke a token: dead on its next request, its WebSockets closed',
      request: { params: { idOrLabel: str(256, 'the token\'s id or label') } },
      answers: { 200: json('RevokedToken') },
      errors: { 404: 'no such token' },
    },
  },
  {
    method: 'POST', path: '/api/tokens/{id}/rotate', scope: 'admin', handler: rotateToken,
    contract: {
      summary: 'A new secret for a token (the old one stops working)',
      request: { params: ID },
      answers: { 200: json('CreatedToken') },
      errors: { 404: 'no such token', 409: 'the token is revoked or expired' },
    },
  },
  {
    method: 'GET', path: '/api/invites', scope: 'admin', handler: listInvites,
    contract: { summary: 'List invites (never a code)', request: { query: ALL }, answers: { 200: { json: arr(ref('InviteInfo')) } } },
  },
  { method: 'POST', path: '/api/invites', scope: 'admin', handler: createInvite, contract: CREATE_INVITE },
  {
    method: 'DELETE', path: '/api/invites/{id}', scope: 'admin', handler: revokeInvite,
    contract: { summary: 'Revoke an invite', request: { params: ID }, answers: { 200: json('RevokedInvite') }, errors: { 404: 'no such invite' } },
  },
  {
    method: 'POST', path: '/api/invites/{id}/rotate', scope: 'admin', handler: rotateInvite,
    contract: {
      summary: 'A new code for an invite (the old one stops working)',
      request: { params: ID },
      answers: { 200: json('CreatedInvite') },
      errors: { 404: 'no such invite', 409: 'the invite is revoked, used up or expired' },
    },
  },
  { method: 'GET', path: '/api/audit', scope: 'admin', handler: listAudit, contract: AUDIT },
  {
    method: 'GET', path: '/api/audit/verify', scope: 'admin', handler: verify,
    contract: { summary: 'Check that the audit log is complete and unaltered', answers: { 200: json('AuditVerify') } },
  },
];
