/**
 * Media folders and scripts.
 *
 * Browsing and playing go through core/media.ts, whose every path goes
 * through SafeJoin; answers carry folder names and relative paths only,
 * never an absolute path. `path` is the relative path as listed (MediaEntry
 * .path), URL-encoded in the query string like any value. Same JSON as
 * `play browse --json` and `play file --json`.
 *
 * Scripts (core/scripts.ts): GET /api/scripts lists those the caller's
 * scope may run (never their command or environment). POST
 * /api/scripts/{name}/run {params} declares the minimum scope ('read') in
 * the route table; runScript checks the script's own scope (config
 * scripts.<name>.scope, default admin) before anything runs (403 otherwise)
 * — the one route whose real scope is not in the table. Runs are limited to
 * 10 a minute per token (per principal, like creations), and runScript
 * audits every run and every refusal with the caller, address and request id.
 */
import { UsageError } from '../../core/errors.js';
import { listFolder, listFolders } from '../../core/media.js';
import { listScripts, runScript } from '../../core/scripts.js';
import { ApiError } from '../respond.js';
import { optNumber, playerOf, queryString, reqString } from './input.js';
import { audited } from './player.js';
import type { ApiRoute, Call } from './types.js';

function intQuery(c: Call, name: string): number | undefined {
  const v = queryString(c.query, name, 12);
  if (v === undefined) return undefined;
  return optNumber({ [name]: /^\d+$/.test(v) ? Number(v) : v }, name, 0, 1e9, { integer: true });
}

function flagQuery(c: Call, name: string): boolean {
  const v = c.query.get(name);
  return v === '' || v === '1' || v === 'true';
}

/** GET /api/media/browse[?folder=NAME&path=REL&offset&limit&all]: without `folder`, the folders; with it, one page of a directory. */
function browse(c: Call) {
  const folder = queryString(c.query, 'folder', 64);
  if (folder === undefined) return { folders: listFolders(c.app.config) };
  const path = c.query.get('path') ?? '';
  const offset = intQuery(c, 'offset');
  const limit = intQuery(c, 'limit');
  return listFolder(c.app.config, folder, path, {
    ...(offset !== undefined ? { offset } : {}), ...(limit !== undefined ? { limit } : {}), showHidden: flagQuery(c, 'all'),
  });
}

/** POST /api/media/play {folder, path, player?}: play one file of a media folder now. */
async function play(c: Call) {
  const body = await c.body();
  const folder = reqString(body, 'folder', 64);
  const path = reqString(body, 'path', 4096);
  const player = playerOf(body, c.query);
  const ctl = c.app.controller;
  if (!ctl.playFile) throw new ApiError(503, 'feature.unavailable', 'playing files is not available in this server');
  const done = await audited(c, 'player.play_file', player, `${folder}/${path}`.slice(0, 300), () => ctl.playFile!(folder, path, player), (r) => r.player);
  c.app.view.invalidate();
  return { ok: true, action: 'file', player: done.player, folder: done.folder, path: done.path, name: done.name };
}

function scripts(c: Call) {
  return listScripts(c.app.config, c.principal!.scope);
}

/** 429 when this token has started 10 runs in the last minute. */
function runAllowed(c: Call): void {
  const r = c.app.scriptRuns.check(`script:${c.principal!.id}`);
  if (r.allowed) return;
  c.app.auth.deniedGated(c.actor, 'rate_limit.script', { ip: c.ip, requestId: c.requestId, target: c.target }, 'script run limit (10 a minute)');
  throw new ApiError(429, 'rate_limit.exceeded', 'too many script runs in the last minute', { retryAfterSeconds: r.retryAfterSeconds, hint: 'at most 10 script runs a minute per token' });
}

async function run(c: Call) {
  runAllowed(c);
  const body = await c.body({ optional: true });
  const params = body.params ?? {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new UsageError("invalid field 'params': must be an object of parameter names to string values", undefined, 'usage.invalid_field');
  }
  const p = c.principal!;
  return runScript(c.app.config, c.params.name!, params as Record<string, string>, {
    actor: c.actor, audit: c.app.audit, scope: p.scope, ip: c.ip, requestId: c.requestId, env: c.app.env, signal: c.app.shutdown,
  });
}

export const MEDIA_ROUTES: ApiRoute[] = [
  { method: 'GET', path: '/api/media/browse', scope: 'read', handler: browse },
  { method: 'POST', path: '/api/media/play', scope: 'control', handler: play },
  { method: 'GET', path: '/api/scripts', scope: 'read', handler: scripts },
  {
    method: 'POST', path: '/api/scripts/{name}/run', scope: 'read', handler: run,
    scopeCheckedInHandler: "the script's own scope (config scripts.<name>.scope, default admin) is checked by runScript before anything runs; 'read' is only the minimum",
  },
];
