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
import { FLAG, IGNORE, IGNORE_QUERY, json, PLAYER } from '../contract/fields.js';
import { arr, dict, int, obj, ref, str, text, X_ERROR } from '../contract/json-schema.js';
import { ContractError } from '../contract/validate.js';
import { audited, requestedPlayer } from './player.js';
import type { ApiRoute, Call } from './types.js';

/** GET /api/media/browse[?folder=NAME&path=REL&offset&limit&all]: without `folder`, the folders; with it, one page of a directory. */
function browse(c: Call) {
  const { folder, path, offset, limit, all } = c.args as { folder?: string; path?: string; offset?: number; limit?: number; all?: boolean };
  if (folder === undefined) return { folders: listFolders(c.app.config) };
  return listFolder(c.app.config, folder, path ?? '', {
    ...(offset !== undefined ? { offset } : {}), ...(limit !== undefined ? { limit } : {}), showHidden: all === true,
  });
}

/** POST /api/media/play {folder, path, player?}: play one file of a media folder now. */
async function play(c: Call) {
  const body = await c.body();
  const { folder, path } = body as { folder: string; path: string };
  const player = requestedPlayer(c, body);
  const ctl = c.app.controller;
  if (!ctl.playFile) throw new ApiError(503, 'feature.unavailable', 'playing files is not available in this server');
  const done = await audited(c, 'player.play_file', player, `${folder}/${path}`.slice(0, 300), () => ctl.playFile!(folder, path, player), (r) => r.player);
  return { ok: true, action: 'file', player: done.player, folder: done.folder, path: done.path, name: done.name };
}

function scripts(c: Call) {
  return listScripts(c.app.config, c.principal!.scope);
}

/**
 * POST /api/scripts/{name}/run {params}. The body is read first (it is capped
 * like every body), so that every refusal — rate limit, unreadable body, a
 * `params` that is not an object of text (the contract's 422) — is audited
 * as `script.run` with the caller and the parameters, like the refusals
 * runScript itself makes (unknown script, scope, parameters, busy).
 */
async function run(c: Call) {
  const p = c.principal!;
  const refused = (error: { code: string; message: string }, params: unknown) => auditRefusedRun({
    actor: c.actor, audit: c.app.audit, name: c.params.name ?? '', params, error, ip: c.ip, requestId: c.requestId,
  });
  let body: Record<string, unknown>;
  try {
    body = await c.body();
  } catch (e) {
    // A body its contract refuses is audited with what was sent; an unreadable one without.
    refused(e as { code: string; message: string }, e instanceof ContractError ? e.input.params : undefined);
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

const FOLDER = str(64, 'a media folder\'s name (config media.folders.NAME)');

export const MEDIA_ROUTES: ApiRoute[] = [
  {
    method: 'GET', path: '/api/media/browse', scope: 'read', handler: browse,
    contract: {
      summary: 'The media folders, or one page of a directory in one',
      request: {
        query: {
          folder: FOLDER,
          path: { type: 'string', maxLength: 4096, description: 'relative to the folder, as listed (entries[].path); default: its root' },
          offset: int(0, 1e9, 'skip this many entries'),
          limit: int(0, 1e9, 'at most this many entries'),
          all: { ...FLAG, description: 'names starting with a dot too' },
        },
      },
      answers: { 200: json('Browse') },
      errors: { 404: 'no such folder, or no such path in it', 503: 'the folder is not available now' },
    },
  },
  {
    method: 'POST', path: '/api/media/play', scope: 'control', handler: play,
    contract: {
      summary: 'Play one file of a media folder now',
      request: { body: { schema: obj({ folder: FOLDER, path: str(4096, 'relative to the folder, as listed'), player: PLAYER, ignore: IGNORE }, ['folder', 'path']) }, query: { player: PLAYER, ignore: IGNORE_QUERY } },
      answers: { 200: json('FilePlayed') },
      errors: { 404: 'no such folder, file or player', 409: 'the player cannot play files', 503: 'no player, or playing files is not available' },
    },
  },
  {
    method: 'GET', path: '/api/scripts', scope: 'read', handler: scripts,
    contract: { summary: 'The scripts the caller\'s scope may run (never their command or environment)', answers: { 200: { json: arr(ref('ScriptInfo')) } } },
  },
  {
    method: 'POST', path: '/api/scripts/{name}/run', scope: 'read', handler: run,
    scopeCheckedInHandler: "the script's own scope (config scripts.<name>.scope, default admin) is checked by runScript before anything runs; 'read' is only the minimum",
    contract: {
      summary: 'Run a script defined in config (its own scope; 10 runs a minute per token)',
      request: {
        params: { name: str(64, 'the script\'s name') },
        body: { schema: obj({ params: { ...dict(text(), 'NAME: value for each of the script\'s parameters (each checked by its pattern)'), [X_ERROR]: { code: 'script.invalid_param' } } }), required: false },
      },
      answers: { 200: json('ScriptResult') },
      errors: { 403: 'the script needs a higher scope', 404: 'no such script', 409: 'the script is running already' },
    },
  },
];
