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
import { UsageError } from '../../core/errors.js';
import { readAudit, verifyAudit, type AuditQuery } from '../../core/audit/log.js';
import { parseSince } from '../../core/audit/since.js';
import type { AuditOutcome } from '../../core/audit/types.js';
import { ApiError } from '../respond.js';
import { createdInviteJson, createdTokenJson, inviteInfoJson, revokedInviteJson, revokedTokenJson, tokenInfoJson } from '../shapes.js';
import { optNumber, optString, queryString, reqString } from './input.js';
import type { ApiRoute, Call } from './types.js';

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
  const v = c.query.get('all');
  return v === '' || v === '1' || v === 'true';
}

function listTokens(c: Call) {
  return c.app.tokens.list({ all: allFlag(c) }).map(tokenInfoJson);
}

async function createToken(c: Call) {
  const body = await c.body();
  const label = reqString(body, 'label', 256);
  const scope = reqString(body, 'scope', 32);
  const expiresIn = optString(body, 'expiresIn', 32);
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
  const body = await c.body();
  const label = reqString(body, 'label', 256);
  const scope = reqString(body, 'scope', 32);
  const uses = optNumber(body, 'uses', 1, 100, { integer: true });
  const expiresIn = optString(body, 'expiresIn', 32);
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

const OUTCOMES = new Set(['ok', 'denied', 'error']);

/** GET /api/audit?since&actor&action&outcome&limit — the same filters as `mediagate audit`. */
async function listAudit(c: Call) {
  const q: AuditQuery = {};
  const since = queryString(c.query, 'since', 64);
  if (since !== undefined) q.since = parseSince(since);
  const actor = queryString(c.query, 'actor');
  if (actor !== undefined) q.actor = actor;
  const action = queryString(c.query, 'action', 64);
  if (action !== undefined) q.action = action;
  const outcome = queryString(c.query, 'outcome', 16);
  if (outcome !== undefined) {
    if (!OUTCOMES.has(outcome)) throw new UsageError(`invalid outcome '${outcome}'`, 'use ok, denied or error', 'usage.invalid_field');
    q.outcome = outcome as AuditOutcome;
  }
  const limitText = queryString(c.query, 'limit', 16);
  let limit = AUDIT_DEFAULT_LIMIT;
  if (limitText !== undefined) {
    limit = /^\d+$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= AUDIT_MAX_LIMIT)) throw new UsageError(`invalid limit '${limitText}'`, `use a whole number from 1 to ${AUDIT_MAX_LIMIT}`, 'usage.invalid_field');
  }
  q.limit = limit;
  // Events this server queued are written first, so the answer includes them.
  await c.app.audit.flush();
  return readAudit(c.app.stateDir, q);
}

/** GET /api/audit/verify — the same JSON as `audit verify --json` (200 either way; `ok` says). */
async function verify(c: Call) {
  await c.app.audit.flush();
  return verifyAudit(c.app.stateDir);
}

export const ADMIN_ROUTES: ApiRoute[] = [
  { method: 'GET', path: '/api/tokens', scope: 'admin', handler: listTokens },
  { method: 'POST', path: '/api/tokens', scope: 'admin', handler: createToken },
  { method: 'DELETE', path: '/api/tokens/{idOrLabel}', scope: 'admin', handler: revokeToken },
  { method: 'POST', path: '/api/tokens/{id}/rotate', scope: 'admin', handler: rotateToken },
  { method: 'GET', path: '/api/invites', scope: 'admin', handler: listInvites },
  { method: 'POST', path: '/api/invites', scope: 'admin', handler: createInvite },
  { method: 'DELETE', path: '/api/invites/{id}', scope: 'admin', handler: revokeInvite },
  { method: 'POST', path: '/api/invites/{id}/rotate', scope: 'admin', handler: rotateInvite },
  { method: 'GET', path: '/api/audit', scope: 'admin', handler: listAudit },
  { method: 'GET', path: '/api/audit/verify', scope: 'admin', handler: verify },
];
