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
 * 10 a minute per token (per principal, like creations). Every run and every
 * refusal (429 included) is audited as `script.run` with the caller,
 * address, request id and parameters (runScript / auditRefusedRun).
 */
import { listFolder, listFolders } from '../../core/media.js';
import { auditRefusedRun, listScripts, runScript } from '../../core/scripts.js';
import { ApiError } from '../respond.js';
import { optNumber, queryString, reqString } from './input.js';
import { requestedPlayer } from './player.js';
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
  const player = requestedPlayer(c, body);
  const ctl = c.app.controller;
  if (!ctl.playFile) throw new ApiError(503, 'feature.unavailable', 'playing files is not available in this server');
  const done = await audited(c, 'player.play_file', player, `${folder}/${path}`.slice(0, 300), () => ctl.playFile!(folder, path, player), (r) => r.player);
  c.app.view.invalidate();
  return { ok: true, action: 'file', player: done.player, folder: done.folder, path: done.path, name: done.name };
}

function scripts(c: Call) {
  return listScripts(c.app.config, c.principal!.scope);
}

/**
 * POST /api/scripts/{name}/run {params}. The body is read first (it is capped
 * like every body), so that every refusal — rate limit, unreadable body —
 * is audited as `script.run` with the caller and the parameters, like the
 * refusals runScript itself makes (unknown script, scope, parameters, busy).
 * A `params` that is not an object goes to runScript, which refuses it (422).
 */
async function run(c: Call) {
  const p = c.principal!;
  const refused = (error: { code: string; message: string }, params: unknown) => auditRefusedRun({
    actor: c.actor, audit: c.app.audit, name: c.params.name ?? '', params, error, ip: c.ip, requestId: c.requestId,
  });
  let body: Record<string, unknown>;
  try {
    body = await c.body({ optional: true });
  } catch (e) {
    refused(e as { code: string; message: string }, undefined);
    throw e;
  }
  const params = body.params === undefined ? {} : body.params;
  const r = c.app.scriptRuns.check(`script:${p.id}`);
  if (!r.allowed) {
    const e = new ApiError(429, 'rate_limit.exceeded', 'too many script runs in the last minute', { retryAfterSeconds: r.retryAfterSeconds, hint: 'at most 10 script runs a minute per token' });
    refused(e, params);
    throw e;
  }
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
