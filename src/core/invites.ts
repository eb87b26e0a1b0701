/**
 * Invites and pairing.
 *
 *   invite code (16 Crockford chars, shown XXXX-XXXX-XXXX-XXXX, N uses, expires)
 *     └─ redeemInvite(code) claims one use → pairing token `mgp_…` (single use, 10 min)
 *          └─ exchangePairing(pairingToken, device) → a bearer token `mg_…` of the
 *             invite's scope, labelled with the device name
 *
 * Codes and pairing tokens are stored only as SHA-256. Invites live in
 * invites.json and pairing tokens in their own file, pairing.json, never in
 * tokens.json: a pairing token is not a bearer token (and its `mgp_` prefix
 * is refused by resolveToken). Both files change under one cross-process lock
 * (the invites file's), so concurrent redemptions — in any number of
 * processes — never claim more than maxUses.
 */
import { nodeCrypto } from './lazy-builtins.js';
import { join } from 'node:path';
import { UsageError } from './errors.js';
import { stateDir } from './paths.js';
import { CROCKFORD, crockfordEncode, randomId } from './base32.js';
import { parseDuration } from './duration.js';
import { type Scope, isScope, parseScope, validateLabel } from './scopes.js';
import { JsonStateFile } from './state/json-file.js';
import { withLock } from './state/lock.js';
import { type AuditActor, type AuditSink, nullAudit } from './audit/types.js';
import { localActor } from './actor.js';
import { type AuditContext, type TokenStore, openTokenStore } from './tokens.js';
import { Config } from './config/store.js';
import { runningServeUrl } from './serve-url.js';

export const INVITES_FILE = 'invites.json';
export const PAIRING_FILE = 'pairing.json';
export const PAIRING_PREFIX = 'mgp_';
const PAIRING_RE = /^mgp_[A-Za-z0-9_-]{43}$/;
export const PAIRING_TTL_MS = 10 * 60_000;
export const DEFAULT_INVITE_USES = 5;
export const DEFAULT_INVITE_EXPIRES = '1d';
export const MAX_INVITE_USES = 100;
const MAX_INVITE_MS = 30 * 86_400_000;
export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8420';
const KEEP_DEAD_MS = 30 * 86_400_000;
const CODE_RE = new RegExp(`^[${CROCKFORD}]{16}$`);
const ANONYMOUS: AuditActor = { id: 'anonymous' };

type Env = NodeJS.ProcessEnv;

interface InviteRecord {
  id: string;
  label: string;
  scope: Scope;
  /** sha256(normalised code), hex. */
  hash: string;
  /** Hashes of codes replaced by rotate (they answer `revoked`). */
  retired?: string[];
  maxUses: number;
  uses: number;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string | null;
  supersededAt?: string | null;
  supersededBy?: string | null;
  rotatedAt?: string | null;
  lastRedeemedAt?: string | null;
}

interface InvitesDoc { version: 1; invites: InviteRecord[] }

interface PairingRecord {
  /** sha256(pairing token), hex. */
  hash: string;
  inviteId: string;
  scope: Scope;
  createdAt: string;
  expiresAt: string;
  usedAt?: string | null;
}

interface PairingDoc { version: 1; pairings: PairingRecord[] }

export type InviteStatus = 'active' | 'expired' | 'used_up' | 'revoked' | 'superseded';

/** What `invite list` shows: never the code or its hash. */
export interface InviteInfo {
  id: string;
  label: string;
  scope: Scope;
  maxUses: number;
  uses: number;
  createdAt: string;
  expiresAt: string;
  status: InviteStatus;
  lastRedeemedAt: string | null;
}

/** What `invite create --json` / `POST /api/invites` answer: the only time `code` is seen. */
export interface CreatedInvite {
  id: string;
  code: string;
  link: string;
  label: string;
  scope: Scope;
  maxUses: number;
  expiresAt: string;
  /** Ids of this label's invites that this one replaced. */
  superseded: string[];
}

export type RedeemFailure = 'malformed' | 'unknown' | 'expired' | 'used_up' | 'revoked' | 'superseded';
export type RedeemResult =
  | { ok: true; pairingToken: string; expiresAt: string; inviteId: string }
  | { ok: false; reason: RedeemFailure };

export type ExchangeFailure = 'malformed' | 'unknown' | 'expired' | 'used' | 'revoked';
export type ExchangeResult =
  | { ok: true; id: string; token: string; scope: Scope; label: string }
  | { ok: false; reason: ExchangeFailure };

export interface InviteStoreOptions {
  env?: Env;
  audit?: AuditSink;
  now?: () => Date;
  /** Where minted device tokens go (default: this environment's token store). */
  tokens?: TokenStore;
  /** Base of invite links (default: config server.publicUrl, else the running serve's URL, else http://127.0.0.1:8420). */
  publicUrl?: string;
  /** Directory of invites.json and pairing.json (default: state dir). */
  dir?: string;
}

/**
 * What a person typed → the canonical 16-character code, or null when it
 * cannot be one. Strips spaces and dashes, ignores case and reads the
 * look-alikes O as 0, I and L as 1, U as V.
 */
export function normalizeCode(text: string): string | null {
  if (typeof text !== 'string' || text.length > 64) return null;
  const s = text.replace(/[\s-]+/g, '').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1').replace(/U/g, 'V');
  return CODE_RE.test(s) ? s : null;
}

/** `ABCDEFGHJKMNPQRS` → `ABCD-EFGH-JKMN-PQRS`. */
export function formatCode(normalized: string): string {
  return normalized.match(/.{1,4}/g)!.join('-');
}

function newCode(): string {
  return crockfordEncode(nodeCrypto().randomBytes(10)); // 80 bits → exactly 16 characters
}

function sha256(text: string): string {
  return nodeCrypto().createHash('sha256').update(text, 'utf8').digest('hex');
}

function statusOf(i: InviteRecord, nowMs: number): InviteStatus {
  if (i.revokedAt) return 'revoked';
  if (i.supersededAt) return 'superseded';
  if (Date.parse(i.expiresAt) <= nowMs) return 'expired';
  if (i.uses >= i.maxUses) return 'used_up';
  return 'active';
}

function validateInvites(raw: unknown): InvitesDoc {
  const d = raw as InvitesDoc;
  if (!d || typeof d !== 'object' || d.version !== 1 || !Array.isArray(d.invites)) throw new Error('not a version 1 invites file');
  for (const i of d.invites) {
    if (!i || typeof i.id !== 'string' || !/^[0-9a-f]{64}$/.test(i.hash) || !isScope(i.scope)
      || !Number.isInteger(i.maxUses) || !Number.isInteger(i.uses) || typeof i.expiresAt !== 'string') {
      throw new Error('an invite entry is malformed');
    }
  }
  return d;
}

function validatePairings(raw: unknown): PairingDoc {
  const d = raw as PairingDoc;
  if (!d || typeof d !== 'object' || d.version !== 1 || !Array.isArray(d.pairings)) throw new Error('not a version 1 pairing file');
  for (const p of d.pairings) {
    if (!p || !/^[0-9a-f]{64}$/.test(p.hash) || !isScope(p.scope) || typeof p.inviteId !== 'string' || typeof p.expiresAt !== 'string') {
      throw new Error('a pairing entry is malformed');
    }
  }
  return d;
}

/** Parse `--uses`: a whole number 1–100. */
export function parseUses(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(String(value).trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_INVITE_USES) {
    throw new UsageError(`invalid --uses '${value}': must be a whole number from 1 to ${MAX_INVITE_USES}`, undefined, 'usage.invalid_uses');
  }
  return n;
}

export class InviteStore {
  private readonly env: Env;
  private readonly audit: AuditSink;
  private readonly now: () => Date;
  private readonly invites: JsonStateFile<InvitesDoc>;
  private readonly pairings: JsonStateFile<PairingDoc>;
  private tokensStore: TokenStore | undefined;
  private readonly publicUrlOverride: string | undefined;
  private index = new Map<string, { invite: InviteRecord; retired: boolean }>();
  private indexGeneration = -1;

  constructor(opts: InviteStoreOptions = {}) {
    this.env = opts.env ?? process.env;
    this.audit = opts.audit ?? nullAudit;
    this.now = opts.now ?? (() => new Date());
    this.tokensStore = opts.tokens;
    this.publicUrlOverride = opts.publicUrl;
    const dir = opts.dir ?? stateDir(this.env);
    const invitesPath = join(dir, INVITES_FILE);
    this.invites = new JsonStateFile<InvitesDoc>({ path: invitesPath, empty: () => ({ version: 1, invites: [] }), validate: validateInvites });
    this.pairings = new JsonStateFile<PairingDoc>({
      path: join(dir, PAIRING_FILE),
      empty: () => ({ version: 1, pairings: [] }),
      validate: validatePairings,
      lockTarget: invitesPath,
    });
  }

  private get tokens(): TokenStore {
    this.tokensStore ??= openTokenStore({ env: this.env, audit: this.audit, now: this.now });
    return this.tokensStore;
  }

  private emit(ctx: AuditContext, fallback: AuditActor | null, action: string, target: string | undefined, outcome: 'ok' | 'denied' | 'error', detail?: string): void {
    this.audit.append({ actor: ctx.actor ?? fallback ?? localActor(), action, target, outcome, ip: ctx.ip, requestId: ctx.requestId, detail });
  }

  private publicUrl(): string {
    const url = this.publicUrlOverride ?? Config.load(this.env).get<string>('server.publicUrl') ?? runningServeUrl(this.env) ?? DEFAULT_PUBLIC_URL;
    return url.replace(/\/+$/, '');
  }

  private linkFor(code: string): string {
    return `${this.publicUrl()}/connect#code=${formatCode(code)}`;
  }

  private lookup(hash: string): { invite: InviteRecord; retired: boolean } | undefined {
    const d = this.invites.read({ force: true });
    if (this.invites.generation !== this.indexGeneration) {
      const index = new Map<string, { invite: InviteRecord; retired: boolean }>();
      for (const i of d.invites) for (const h of i.retired ?? []) index.set(h, { invite: i, retired: true });
      for (const i of d.invites) index.set(i.hash, { invite: i, retired: false });
      this.index = index;
      this.indexGeneration = this.invites.generation;
    }
    return this.index.get(hash);
  }

  private info(i: InviteRecord, nowMs: number): InviteInfo {
    return {
      id: i.id, label: i.label, scope: i.scope, maxUses: i.maxUses, uses: i.uses,
      createdAt: i.createdAt, expiresAt: i.expiresAt, status: statusOf(i, nowMs), lastRedeemedAt: i.lastRedeemedAt ?? null,
    };
  }

  private prune(d: InvitesDoc, nowMs: number): void {
    d.invites = d.invites.filter((i) => {
      const s = statusOf(i, nowMs);
      if (s === 'active' || s === 'used_up') return s === 'active' || nowMs - Date.parse(i.expiresAt) < KEEP_DEAD_MS;
      const since = Date.parse(i.revokedAt ?? i.supersededAt ?? i.expiresAt);
      return nowMs - since < KEEP_DEAD_MS;
    });
  }

  /**
   * Create an invite. A still-redeemable invite with the same label is
   * superseded (its code stops working). Defaults: 5 uses, 1 day; at most
   * 100 uses and 30 days; never `never`.
   */
  async create(
    input: { label: string; scope: Scope | string; uses?: number | string; expiresIn?: string | number },
    ctx: AuditContext = {},
  ): Promise<CreatedInvite> {
    try {
      return await this.createUnaudited(input, ctx);
    } catch (e) {
      // A refused or failed create is audited too (never with the code: none was shown).
      this.emit(ctx, null, 'invite.create', undefined, 'error', (e as { code?: string }).code ?? 'error');
      throw e;
    }
  }

  private async createUnaudited(
    input: { label: string; scope: Scope | string; uses?: number | string; expiresIn?: string | number },
    ctx: AuditContext,
  ): Promise<CreatedInvite> {
    const label = validateLabel(input.label);
    const scope = parseScope(String(input.scope));
    const maxUses = parseUses(input.uses ?? DEFAULT_INVITE_USES);
    const ms = typeof input.expiresIn === 'number'
      ? input.expiresIn
      : parseDuration(input.expiresIn ?? DEFAULT_INVITE_EXPIRES, { maxMs: MAX_INVITE_MS, minMs: 60_000, what: '--expires' })!;
    if (!(ms > 0 && ms <= MAX_INVITE_MS)) throw new UsageError('invalid --expires: must be from 1m to 30d', undefined, 'usage.invalid_duration');
    this.publicUrl(); // read the public URL before taking the lock: a bad config fails early
    const now = this.now();
    const code = newCode();
    const { record, superseded } = await this.invites.mutate((d) => {
      this.prune(d, now.getTime());
      let id = randomId('inv');
      while (d.invites.some((i) => i.id === id)) id = randomId('inv');
      const superseded: string[] = [];
      for (const old of d.invites) {
        if (old.label === label && statusOf(old, now.getTime()) === 'active') {
          old.supersededAt = now.toISOString();
          old.supersededBy = id;
          superseded.push(old.id);
        }
      }
      const record: InviteRecord = {
        id, label, scope, hash: sha256(code), maxUses, uses: 0,
        createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + ms).toISOString(),
      };
      d.invites.push(record);
      return { record, superseded };
    });
    for (const old of superseded) this.emit(ctx, null, 'invite.supersede', old, 'ok', `superseded by ${record.id}`);
    this.emit(ctx, null, 'invite.create', record.id, 'ok', `label "${label}", scope ${scope}, ${maxUses} use(s), expires ${record.expiresAt}`);
    return { id: record.id, code: formatCode(code), link: this.linkFor(code), label, scope, maxUses, expiresAt: record.expiresAt, superseded };
  }

  /** Invites, newest first; only redeemable ones unless `all`. Never a code or hash. */
  list(opts: { all?: boolean } = {}): InviteInfo[] {
    const nowMs = this.now().getTime();
    return this.invites.read({ force: true }).invites
      .map((i) => this.info(i, nowMs))
      .filter((i) => opts.all || i.status === 'active' || i.status === 'used_up')
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id.localeCompare(b.id)));
  }

  private find(d: InvitesDoc, idOrLabel: string): InviteRecord {
    const byId = d.invites.find((i) => i.id === idOrLabel);
    if (byId) return byId;
    const nowMs = this.now().getTime();
    const byLabel = d.invites.filter((i) => i.label === idOrLabel && statusOf(i, nowMs) === 'active');
    if (byLabel.length === 1) return byLabel[0]!;
    throw new UsageError(`no invite with id '${idOrLabel}'`, 'see the invites with: mediagate invite list --all', 'invite.not_found');
  }

  /** Revoke: its code stops working, and so do pairing tokens it issued that were not exchanged yet. */
  async revoke(id: string, ctx: AuditContext = {}): Promise<InviteInfo & { alreadyRevoked: boolean }> {
    const now = this.now();
    let r: InviteInfo & { alreadyRevoked: boolean };
    try {
      r = await this.invites.mutate((d) => {
        const i = this.find(d, id);
        const alreadyRevoked = Boolean(i.revokedAt);
        if (!alreadyRevoked) i.revokedAt = now.toISOString();
        return { ...this.info(i, now.getTime()), alreadyRevoked };
      });
    } catch (e) {
      this.emit(ctx, null, 'invite.revoke', id, 'error', (e as { code?: string }).code ?? 'error');
      throw e;
    }
    this.emit(ctx, null, 'invite.revoke', r.id, 'ok', r.alreadyRevoked ? 'already revoked' : `label "${r.label}"`);
    return r;
  }

  /**
   * New code, uses reset to 0, same expiry. The old code stops working, and
   * so do the label's other redeemable invites (superseded, as by create).
   */
  async rotate(id: string, ctx: AuditContext = {}): Promise<CreatedInvite> {
    const now = this.now();
    const code = newCode();
    let r: { record: InviteRecord; superseded: string[] };
    try {
      this.publicUrl();
      r = await this.invites.mutate((d) => {
        const i = this.find(d, id);
        const status = statusOf(i, now.getTime());
        if (status !== 'active' && status !== 'used_up') {
          throw new UsageError(`invite ${i.id} is ${status.replace('_', ' ')} and cannot be rotated`, 'create a new one with: mediagate invite create', `invite.${status}`);
        }
        // Rotating makes this invite redeemable again: like a new one, it supersedes
        // the label's other redeemable invites, so a label never has two live codes.
        const superseded: string[] = [];
        for (const other of d.invites) {
          if (other !== i && other.label === i.label && statusOf(other, now.getTime()) === 'active') {
            other.supersededAt = now.toISOString();
            other.supersededBy = i.id;
            superseded.push(other.id);
          }
        }
        i.retired = [...(i.retired ?? []), i.hash].slice(-8);
        i.hash = sha256(code);
        i.uses = 0;
        i.rotatedAt = now.toISOString();
        return { record: { ...i }, superseded };
      });
    } catch (e) {
      this.emit(ctx, null, 'invite.rotate', id, 'error', (e as { code?: string }).code ?? 'error');
      throw e;
    }
    const { record, superseded } = r;
    for (const old of superseded) this.emit(ctx, null, 'invite.supersede', old, 'ok', `superseded by ${record.id}`);
    this.emit(ctx, null, 'invite.rotate', record.id, 'ok', `label "${record.label}", uses reset`);
    return { id: record.id, code: formatCode(code), link: this.linkFor(code), label: record.label, scope: record.scope, maxUses: record.maxUses, expiresAt: record.expiresAt, superseded };
  }

  /**
   * Claim one use of an invite and issue a single-use pairing token (10 min).
   * Rejections consume nothing and write nothing: the code is looked up in a
   * fresh (stat-checked) index first, and only a redeemable invite takes the
   * lock, where it is checked again before the use is counted.
   */
  async redeemInvite(code: string, ctx: AuditContext = {}): Promise<RedeemResult> {
    const deny = (reason: RedeemFailure, target?: string): RedeemResult => {
      this.emit(ctx, ANONYMOUS, 'invite.redeem', target, 'denied', reason);
      return { ok: false, reason };
    };
    const norm = normalizeCode(code);
    if (!norm) return deny('malformed');
    const hash = sha256(norm);
    const nowMs = () => this.now().getTime();
    const seen = this.lookup(hash);
    if (!seen) return deny('unknown');
    if (seen.retired) return deny('revoked', seen.invite.id);
    const s = statusOf(seen.invite, nowMs());
    if (s !== 'active') return deny(s, seen.invite.id);

    const pairingToken = PAIRING_PREFIX + nodeCrypto().randomBytes(32).toString('base64url');
    const outcome = await withLock(this.invites.lockTarget, () => {
      const now = this.now();
      // The pairing file must be usable (private, parseable) before a use is claimed.
      this.pairings.read({ force: true });
      const claimed = this.invites.mutateLocked((d): { ok: true; invite: InviteRecord } | { ok: false; reason: RedeemFailure; id?: string } => {
        const inv = d.invites.find((i) => i.hash === hash);
        if (!inv) {
          const old = d.invites.find((i) => i.retired?.includes(hash));
          return old ? { ok: false, reason: 'revoked', id: old.id } : { ok: false, reason: 'unknown' };
        }
        const status = statusOf(inv, now.getTime());
        if (status !== 'active') return { ok: false, reason: status, id: inv.id };
        inv.uses += 1;
        inv.lastRedeemedAt = now.toISOString();
        return { ok: true, invite: { ...inv } };
      });
      if (!claimed.ok) return claimed;
      const expiresAt = new Date(now.getTime() + PAIRING_TTL_MS).toISOString();
      try {
        this.pairings.mutateLocked((d) => {
          d.pairings = d.pairings.filter((p) => now.getTime() - Date.parse(p.expiresAt) < 86_400_000);
          d.pairings.push({ hash: sha256(pairingToken), inviteId: claimed.invite.id, scope: claimed.invite.scope, createdAt: now.toISOString(), expiresAt });
        });
      } catch (e) {
        // No pairing token was stored (a full disk, say): give the use back.
        try {
          this.invites.mutateLocked((d) => {
            const inv = d.invites.find((i) => i.id === claimed.invite.id);
            if (inv && inv.uses > 0) inv.uses -= 1;
          });
        } catch { /* the disk may refuse that too: one use lost, never one too many */ }
        throw e;
      }
      return { ok: true as const, invite: claimed.invite, expiresAt };
    });
    if (!outcome.ok) return deny(outcome.reason, outcome.id);
    this.emit(ctx, ANONYMOUS, 'invite.redeem', outcome.invite.id, 'ok', `use ${outcome.invite.uses} of ${outcome.invite.maxUses}`);
    return { ok: true, pairingToken, expiresAt: outcome.expiresAt, inviteId: outcome.invite.id };
  }

  /**
   * Trade a pairing token for a bearer token of the invite's scope, labelled
   * with `deviceName` (1–64 printable characters; a bad name is a UsageError
   * and consumes nothing). The pairing token is spent before the bearer
   * token is minted, so a crash in between never lets it be used twice.
   */
  async exchangePairing(pairingToken: string, deviceName: string, ctx: AuditContext = {}): Promise<ExchangeResult> {
    const deny = (reason: ExchangeFailure, target?: string): ExchangeResult => {
      this.emit(ctx, ANONYMOUS, 'pairing.exchange', target, 'denied', reason);
      return { ok: false, reason };
    };
    if (typeof pairingToken !== 'string' || !PAIRING_RE.test(pairingToken)) return deny('malformed');
    const device = validateLabel(deviceName, 'device name');
    const hash = sha256(pairingToken);
    const outcome = await withLock(this.invites.lockTarget, () => {
      const now = this.now();
      const invites = this.invites.read({ force: true });
      return this.pairings.mutateLocked((d): { ok: true; p: PairingRecord } | { ok: false; reason: ExchangeFailure; id?: string } => {
        const p = d.pairings.find((x) => x.hash === hash);
        if (!p) return { ok: false, reason: 'unknown' };
        if (p.usedAt) return { ok: false, reason: 'used', id: p.inviteId };
        if (Date.parse(p.expiresAt) <= now.getTime()) return { ok: false, reason: 'expired', id: p.inviteId };
        const inv = invites.invites.find((i) => i.id === p.inviteId);
        if (!inv || inv.revokedAt) return { ok: false, reason: 'revoked', id: p.inviteId };
        p.usedAt = now.toISOString();
        return { ok: true, p: { ...p } };
      });
    });
    if (!outcome.ok) return deny(outcome.reason, outcome.id);
    const actor = ctx.actor ?? { id: `pairing:${outcome.p.inviteId}` };
    const minted = await this.tokens.create({ label: device, scope: outcome.p.scope }, { ...ctx, actor });
    this.emit(ctx, ANONYMOUS, 'pairing.exchange', minted.id, 'ok', `invite ${outcome.p.inviteId}, device "${device}"`);
    return { ok: true, id: minted.id, token: minted.token, scope: minted.scope, label: minted.label };
  }
}

export function openInviteStore(opts: InviteStoreOptions = {}): InviteStore {
  return new InviteStore(opts);
}

/** Human text for a failed redeem/exchange (the server and the CLI use the same words). */
export function describeFailure(reason: RedeemFailure | ExchangeFailure): string {
  switch (reason) {
    case 'malformed': return 'that is not an invite code (expected 16 letters and digits, like ABCD-EFGH-JKMN-PQRS)';
    case 'unknown': return 'no such invite code';
    case 'expired': return 'this invite or pairing has expired';
    case 'used_up': return 'this invite has no uses left';
    case 'revoked': return 'this invite was revoked';
    case 'superseded': return 'this invite was replaced by a newer one for the same label';
    case 'used': return 'this pairing token was already used';
  }
}
