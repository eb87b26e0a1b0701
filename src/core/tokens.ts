/**
 * Bearer tokens: `mg_` + base64url(32 random bytes). Only the SHA-256 of a
 * token is stored (tokens.json, 0600, state dir); the token itself is shown
 * once. Resolution is one hash and one Map lookup, whatever the number of
 * tokens, and sees other processes' changes (revocation) within 250 ms.
 */
import { nodeCrypto } from './lazy-builtins.js';
import { join } from 'node:path';
import { UsageError } from './errors.js';
import { stateDir } from './paths.js';
import { randomId } from './base32.js';
import { parseDuration } from './duration.js';
import { type Scope, isScope, parseScope, validateLabel } from './scopes.js';
import { JsonStateFile } from './state/json-file.js';
import { type AuditActor, type AuditSink, nullAudit } from './audit/types.js';
import { localActor } from './actor.js';

export { type Scope, SCOPES, scopeAllows, parseScope, isScope, validateLabel } from './scopes.js';

export const TOKENS_FILE = 'tokens.json';
export const TOKEN_PREFIX = 'mg_';
/** `mg_` + 43 base64url characters (32 bytes, unpadded). */
const TOKEN_RE = /^mg_[A-Za-z0-9_-]{43}$/;
/** lastSeenAt is written at most this often per token. */
const SEEN_THROTTLE_MS = 60_000;
/** Revoked or expired records are forgotten this long afterwards. */
const KEEP_DEAD_MS = 30 * 86_400_000;
/** Hashes of rotated-out secrets kept per token (they resolve as `revoked`). */
const KEEP_RETIRED = 8;

type Env = NodeJS.ProcessEnv;

/** Who acts, for the audit log. The CLI passes nothing (local user); the server passes the caller. */
export interface AuditContext {
  actor?: AuditActor;
  ip?: string;
  requestId?: string;
}

interface TokenRecord {
  id: string;
  label: string;
  scope: Scope;
  /** sha256(token), hex. */
  hash: string;
  createdAt: string;
  expiresAt: string | null;
  lastSeenAt: string | null;
  revokedAt?: string | null;
  rotatedAt?: string | null;
  /** Hashes of secrets this token had before a rotate. */
  retired?: string[];
}

interface TokensDoc {
  version: 1;
  tokens: TokenRecord[];
}

export type TokenStatus = 'active' | 'expired' | 'revoked';

/** What `token list` shows: never the secret or its hash. */
export interface TokenInfo {
  id: string;
  label: string;
  scope: Scope;
  createdAt: string;
  expiresAt: string | null;
  lastSeenAt: string | null;
  status: TokenStatus;
  revokedAt: string | null;
}

/** What `token create --json` / `POST /api/tokens` answer: the only time `token` is seen. */
export interface CreatedToken {
  id: string;
  token: string;
  label: string;
  scope: Scope;
  createdAt: string;
  expiresAt: string | null;
}

export interface Principal {
  id: string;
  label: string;
  scope: Scope;
  kind: 'token';
  expiresAt: string | null;
}

export type ResolveFailure = 'unknown' | 'revoked' | 'expired' | 'malformed';
export type Resolution = { ok: true; principal: Principal } | { ok: false; reason: ResolveFailure };

export interface TokenStoreOptions {
  env?: Env;
  audit?: AuditSink;
  /** Clock for expiry, createdAt and lastSeenAt (tests inject one). */
  now?: () => Date;
  /** File location override (default: <state dir>/tokens.json). */
  path?: string;
  /** How often resolve re-checks the file for other processes' changes (ms, default 250). */
  checkIntervalMs?: number;
}

export function hashSecret(secret: string): string {
  return nodeCrypto().createHash('sha256').update(secret, 'utf8').digest('hex');
}

function newTokenSecret(): string {
  return TOKEN_PREFIX + nodeCrypto().randomBytes(32).toString('base64url');
}

function validateDoc(raw: unknown): TokensDoc {
  const d = raw as TokensDoc;
  if (!d || typeof d !== 'object' || d.version !== 1 || !Array.isArray(d.tokens)) throw new Error('not a version 1 tokens file');
  for (const t of d.tokens) {
    if (!t || typeof t.id !== 'string' || typeof t.hash !== 'string' || !/^[0-9a-f]{64}$/.test(t.hash) || !isScope(t.scope) || typeof t.label !== 'string') {
      throw new Error('a token entry is malformed');
    }
  }
  return d;
}

function statusOf(t: TokenRecord, nowMs: number): TokenStatus {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= nowMs) return 'expired';
  return 'active';
}

/** Expiry from `expiresIn`: a duration string (`30d`, `never`), ms, or null/undefined for never. */
export function expiryFrom(expiresIn: string | number | null | undefined, now: Date, what = '--expires'): string | null {
  if (expiresIn === undefined || expiresIn === null) return null;
  const ms = typeof expiresIn === 'number' ? expiresIn : parseDuration(expiresIn, { allowNever: true, what });
  if (ms === null) return null;
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`invalid ${what}: must be positive`, undefined, 'usage.invalid_duration');
  return new Date(now.getTime() + ms).toISOString();
}

export class TokenStore {
  private readonly file: JsonStateFile<TokensDoc>;
  private readonly audit: AuditSink;
  private readonly now: () => Date;
  /** sha256 hex → record (current secrets) or retired marker, rebuilt when the file changes. */
  private index = new Map<string, { record: TokenRecord; retired: boolean }>();
  private indexGeneration = -1;
  /** Token id → time (ms) we last recorded as seen, persisted or pending. */
  private seen = new Map<string, number>();
  private pendingSeen = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** Last error of a background lastSeenAt write (they never throw into callers). */
  lastBackgroundError: Error | null = null;

  constructor(opts: TokenStoreOptions = {}) {
    const env = opts.env ?? process.env;
    this.audit = opts.audit ?? nullAudit;
    this.now = opts.now ?? (() => new Date());
    this.file = new JsonStateFile<TokensDoc>({
      path: opts.path ?? join(stateDir(env), TOKENS_FILE),
      empty: () => ({ version: 1, tokens: [] }),
      validate: validateDoc,
      checkIntervalMs: opts.checkIntervalMs ?? 250,
    });
  }

  get path(): string {
    return this.file.path;
  }

  private doc(force = false): TokensDoc {
    const d = this.file.read({ force });
    if (this.file.generation !== this.indexGeneration) {
      const index = new Map<string, { record: TokenRecord; retired: boolean }>();
      for (const t of d.tokens) {
        for (const h of t.retired ?? []) index.set(h, { record: t, retired: true });
      }
      for (const t of d.tokens) index.set(t.hash, { record: t, retired: false });
      this.index = index;
      this.indexGeneration = this.file.generation;
    }
    return d;
  }

  private emit(ctx: AuditContext, action: string, target: string | undefined, outcome: 'ok' | 'denied' | 'error', detail?: string): void {
    this.audit.append({ actor: ctx.actor ?? localActor(), action, target, outcome, ip: ctx.ip, requestId: ctx.requestId, detail });
  }

  private prune(d: TokensDoc, nowMs: number): void {
    d.tokens = d.tokens.filter((t) => {
      const deadSince = t.revokedAt ? Date.parse(t.revokedAt) : t.expiresAt ? Date.parse(t.expiresAt) : Infinity;
      return nowMs - deadSince < KEEP_DEAD_MS;
    });
  }

  private info(t: TokenRecord, nowMs: number): TokenInfo {
    const pending = this.pendingSeen.get(t.id);
    const lastSeenAt = pending && (!t.lastSeenAt || pending > t.lastSeenAt) ? pending : t.lastSeenAt;
    return {
      id: t.id,
      label: t.label,
      scope: t.scope,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      lastSeenAt: lastSeenAt ?? null,
      status: statusOf(t, nowMs),
      revokedAt: t.revokedAt ?? null,
    };
  }

  /** Mint a token. `expiresIn`: `30d`, `12h`, `never`, ms, or omitted (never). */
  async create(input: { label: string; scope: Scope | string; expiresIn?: string | number | null }, ctx: AuditContext = {}): Promise<CreatedToken> {
    try {
      return await this.createUnaudited(input, ctx);
    } catch (e) {
      // A refused or failed create is audited too (no token was minted, none is named).
      this.emit(ctx, 'token.create', undefined, 'error', (e as { code?: string }).code ?? 'error');
      throw e;
    }
  }

  private async createUnaudited(input: { label: string; scope: Scope | string; expiresIn?: string | number | null }, ctx: AuditContext): Promise<CreatedToken> {
    const label = validateLabel(input.label);
    const scope = parseScope(String(input.scope));
    const now = this.now();
    const expiresAt = expiryFrom(input.expiresIn, now);
    const token = newTokenSecret();
    const record = await this.file.mutate((d) => {
      this.prune(d, now.getTime());
      let id = randomId('tok');
      while (d.tokens.some((t) => t.id === id)) id = randomId('tok');
      const r: TokenRecord = { id, label, scope, hash: hashSecret(token), createdAt: now.toISOString(), expiresAt, lastSeenAt: null };
      d.tokens.push(r);
      return r;
    });
    this.emit(ctx, 'token.create', record.id, 'ok', `label "${label}", scope ${scope}, expires ${expiresAt ?? 'never'}`);
    return { id: record.id, token, label, scope, createdAt: record.createdAt, expiresAt };
  }

  /** Tokens, newest first. Revoked ones only with `all`. Never a secret or hash. */
  list(opts: { all?: boolean } = {}): TokenInfo[] {
    const nowMs = this.now().getTime();
    return this.doc(true).tokens
      .map((t) => this.info(t, nowMs))
      .filter((t) => opts.all || t.status !== 'revoked')
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id.localeCompare(b.id)));
  }

  /** One token's info by id, or undefined. */
  get(id: string): TokenInfo | undefined {
    const t = this.doc(true).tokens.find((x) => x.id === id);
    return t ? this.info(t, this.now().getTime()) : undefined;
  }

  private find(d: TokensDoc, idOrLabel: string, byLabel: boolean): TokenRecord {
    const byId = d.tokens.find((t) => t.id === idOrLabel);
    if (byId) return byId;
    if (byLabel) {
      const nowMs = this.now().getTime();
      const matches = d.tokens.filter((t) => t.label === idOrLabel && statusOf(t, nowMs) !== 'revoked');
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) {
        throw new UsageError(`more than one token is labelled '${idOrLabel}': ${matches.map((t) => t.id).join(', ')}`,
          'revoke by id instead', 'token.ambiguous');
      }
    }
    throw new UsageError(`no token ${byLabel ? 'with id or label' : 'with id'} '${idOrLabel}'`, 'see the tokens with: mediagate token list', 'token.not_found');
  }

  /** Revoke by id or (unique, not revoked) label. Takes effect on the next request, in every process. */
  async revoke(idOrLabel: string, ctx: AuditContext = {}): Promise<TokenInfo & { alreadyRevoked: boolean }> {
    const now = this.now();
    let result: TokenInfo & { alreadyRevoked: boolean };
    try {
      result = await this.file.mutate((d) => {
        const t = this.find(d, idOrLabel, true);
        const alreadyRevoked = Boolean(t.revokedAt);
        if (!alreadyRevoked) t.revokedAt = now.toISOString();
        return { ...this.info(t, now.getTime()), alreadyRevoked };
      });
    } catch (e) {
      this.emit(ctx, 'token.revoke', undefined, 'error', (e as { code?: string }).code ?? 'error');
      throw e;
    }
    this.emit(ctx, 'token.revoke', result.id, 'ok', result.alreadyRevoked ? 'already revoked' : `label "${result.label}"`);
    return result;
  }

  /** New secret for the same id, label, scope and expiry; the old secret stops working at once. */
  async rotate(id: string, ctx: AuditContext = {}): Promise<CreatedToken> {
    const now = this.now();
    const token = newTokenSecret();
    let r: TokenRecord;
    try {
      r = await this.file.mutate((d) => {
        const t = this.find(d, id, false);
        const status = statusOf(t, now.getTime());
        if (status !== 'active') {
          throw new UsageError(`token ${t.id} is ${status} and cannot be rotated`, 'create a new one with: mediagate token create', `token.${status}`);
        }
        t.retired = [...(t.retired ?? []), t.hash].slice(-KEEP_RETIRED);
        t.hash = hashSecret(token);
        t.rotatedAt = now.toISOString();
        return { ...t };
      });
    } catch (e) {
      this.emit(ctx, 'token.rotate', id, 'error', (e as { code?: string }).code ?? 'error');
      throw e;
    }
    this.emit(ctx, 'token.rotate', r.id, 'ok', `label "${r.label}"`);
    return { id: r.id, token, label: r.label, scope: r.scope, createdAt: r.createdAt, expiresAt: r.expiresAt };
  }

  /**
   * Who presents `secret`? Constant work in the number of tokens: one SHA-256
   * and one Map lookup (the map is keyed by hash, so lookup timing reveals
   * nothing usable about the secret). Pairing tokens (`mgp_…`) and anything
   * else not shaped like a token are `malformed`. Sync, cheap: the file is
   * stat-checked at most every 250 ms.
   */
  resolveToken(secret: unknown): Resolution {
    if (typeof secret !== 'string' || !TOKEN_RE.test(secret)) return { ok: false, reason: 'malformed' };
    const hash = hashSecret(secret);
    this.doc();
    const hit = this.index.get(hash);
    if (!hit) return { ok: false, reason: 'unknown' };
    // The Map matched on the hash already; compare again in constant time as a guard against index bugs.
    if (!hit.retired && !nodeCrypto().timingSafeEqual(Buffer.from(hit.record.hash, 'hex'), Buffer.from(hash, 'hex'))) {
      return { ok: false, reason: 'unknown' };
    }
    const t = hit.record;
    if (hit.retired || t.revokedAt) return { ok: false, reason: 'revoked' };
    const now = this.now();
    if (t.expiresAt && Date.parse(t.expiresAt) <= now.getTime()) return { ok: false, reason: 'expired' };
    this.touch(t, now);
    return { ok: true, principal: { id: t.id, label: t.label, scope: t.scope, kind: 'token', expiresAt: t.expiresAt } };
  }

  /** Record use, at most once a minute per token, written later in the background. */
  private touch(t: TokenRecord, now: Date): void {
    const nowMs = now.getTime();
    let last = this.seen.get(t.id);
    if (last === undefined) {
      last = t.lastSeenAt ? Date.parse(t.lastSeenAt) : -Infinity;
      this.seen.set(t.id, last);
    }
    if (nowMs - last < SEEN_THROTTLE_MS) return;
    this.seen.set(t.id, nowMs);
    this.pendingSeen.set(t.id, now.toISOString());
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => { this.flushTimer = null; void this.flush(); }, 1000);
      this.flushTimer.unref();
    }
  }

  /** Write pending lastSeenAt updates now (the server calls this on shutdown). Never throws. */
  async flush(): Promise<void> {
    if (this.flushTimer) { clearTimeout(this.flushTimer); this.flushTimer = null; }
    while (this.flushing) await this.flushing;
    if (this.pendingSeen.size === 0) return;
    const batch = new Map(this.pendingSeen);
    this.pendingSeen.clear();
    this.flushing = this.file.mutate((d) => {
      for (const t of d.tokens) {
        const at = batch.get(t.id);
        if (at && (!t.lastSeenAt || at > t.lastSeenAt)) t.lastSeenAt = at;
      }
    }).then(() => { this.lastBackgroundError = null; }, (e: Error) => {
      this.lastBackgroundError = e;
      for (const [id, at] of batch) if (!this.pendingSeen.has(id)) this.pendingSeen.set(id, at);
    }).finally(() => { this.flushing = null; });
    await this.flushing;
  }
}

/** Open the token store of this environment (state dir from MEDIAGATE_STATE_DIR / XDG). */
export function openTokenStore(opts: TokenStoreOptions = {}): TokenStore {
  return new TokenStore(opts);
}
