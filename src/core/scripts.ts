/**
 * Scripts: commands the owner defines in config.json (never through a
 * command or the API), run on demand (`script run`, POST /api/scripts/NAME/run)
 * or on player events (callbacks.ts).
 *
 *   "scripts": {
 *     "lights": {
 *       "command": ["/usr/local/bin/hue", "scene", "{scene}"],
 *       "params": { "scene": { "pattern": "[a-z]{1,20}", "required": true } },
 *       "timeout": 5, "maxOutput": 4096, "scope": "control",
 *       "description": "Set a light scene", "env": { "HUE_BRIDGE": "10.0.0.2" }
 *     }
 *   }
 *
 * Guarantees, in the order they apply:
 *  - every definition is checked as a whole when loaded (ConfigError naming
 *    the script): argv array, `{param}` placeholders only as whole elements
 *    and only for declared parameters, patterns that compile, limits in range;
 *  - the caller's scope is checked against the script's (default admin);
 *  - every parameter is checked (declared, a string, matches its anchored
 *    pattern `^(?:…)$`, required ones present) BEFORE anything is started;
 *  - one run at a time per script (in this process): a second is refused
 *    with `script.busy`; callbacks (`exclusive: false`) take no part in
 *    this lock — each event has its own queue in callbacks.ts — so a hung
 *    callback neither delays another event nor makes the API answer busy;
 *  - the process is started with execa, never a shell, each value being one
 *    whole argv element; with only PATH, HOME, LANG and the script's own env;
 *    stdin closed (or the callback event); in its own process group;
 *  - after `timeout` seconds the whole group gets SIGTERM, then SIGKILL 2 s
 *    later; when the script exits, whatever it left running in its group is
 *    ended the same way (a process that calls setsid() itself escapes this);
 *  - stdout and stderr are each kept up to `maxOutput` bytes, the rest is
 *    read and dropped (`truncated`);
 *  - every run and every refused run is audited (actor, parameters) as
 *    `script.run`; callers that refuse a run before runScript (rate limit,
 *    malformed parameters) use auditRefusedRun, so there is one shape;
 *  - a run ended through `signal` (the CLI on Ctrl-C, serve shutting down)
 *    is audited as interrupted, with the abort reason.
 */
import { existsSync } from 'node:fs';
import { MatchTimeout, testWithin } from './bounded-match.js';
import type { AuditActor, AuditSink } from './audit/types.js';
import type { Config } from './config/store.js';
import { AuthError, ConfigError, MediagateError, NoPlayerError, UsageError, ExitCode } from './errors.js';
import { isScope, scopeAllows, type Scope } from './scopes.js';

export const DEFAULT_SCRIPT_TIMEOUT_S = 10;
export const MAX_SCRIPT_TIMEOUT_S = 300;
export const DEFAULT_MAX_OUTPUT = 64 * 1024;
export const MAX_MAX_OUTPUT = 16 * 1024 * 1024;
/**
 * Longest parameter value accepted, in characters. Kept short because the
 * owner's pattern runs on it: a backtracking pattern such as `(a+)+b` costs
 * time exponential in the length (see `script run --help`); the test is also
 * cut off after PATTERN_TIME_LIMIT_MS (bounded-match.ts).
 */
export const MAX_PARAM_LENGTH = 1024;
/** Longest a parameter's pattern test may run (see bounded-match.ts); past it the value is refused. */
export const PATTERN_TIME_LIMIT_MS = 50;
/** How long the group has between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;
/** Longest parameter value written to the audit log, in characters. */
const AUDIT_VALUE_CHARS = 64;

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `{name}` anywhere in an argv element. */
const PLACEHOLDER_ANYWHERE = /\{[A-Za-z_][A-Za-z0-9_-]*\}/;
const PLACEHOLDER_WHOLE = /^\{([A-Za-z_][A-Za-z0-9_-]{0,63})\}$/;

export interface ScriptParam {
  /** The pattern as written in config. */
  pattern: string;
  /** Compiled, anchored: ^(?:pattern)$. */
  regex: RegExp;
  required: boolean;
}

/** A checked script definition. */
export interface ScriptDef {
  name: string;
  /** argv; elements that are exactly `{param}` are placeholders. */
  command: string[];
  params: Record<string, ScriptParam>;
  /** Seconds. */
  timeout: number;
  /** Bytes kept of stdout and of stderr, each. */
  maxOutput: number;
  scope: Scope;
  description: string | null;
  env: Record<string, string>;
}

/** What `script list` and GET /api/scripts show: never the command or env values. */
export interface ScriptInfo {
  name: string;
  description: string | null;
  scope: Scope;
  timeout: number;
  params: Array<{ name: string; pattern: string; required: boolean }>;
}

export interface ScriptResult {
  script: string;
  /** Exit status, or null when the process was ended by a signal. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** stdout or stderr went over maxOutput and was cut. */
  truncated: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  /** Who runs it (audited). */
  actor: AuditActor;
  audit: AuditSink;
  /** The scope the caller holds: the local CLI and callbacks hold admin; a server client its token's. */
  scope: Scope;
  ip?: string | undefined;
  requestId?: string | undefined;
  /** Written to the script's stdin (callbacks: the event JSON); otherwise stdin is closed. */
  input?: string | undefined;
  /** Where PATH, HOME and LANG come from (default process.env). Nothing else of it is passed on. */
  env?: NodeJS.ProcessEnv;
  /** Wait for a running instance of the same script to finish instead of refusing. */
  wait?: boolean;
  /**
   * Take the script's one-run-at-a-time lock (default true). Callbacks pass
   * false: their runs are already one at a time per event (callbacks.ts), and
   * must neither wait for nor block another event's or a client's run.
   */
  exclusive?: boolean;
  /** Audit detail prefix, e.g. `callback pause`. */
  reason?: string;
  /**
   * Ends the run early (its process group gets SIGTERM, then SIGKILL): serve
   * shutting down, the CLI interrupted. A string abort reason (e.g. 'SIGINT')
   * is written to the audit entry.
   */
  signal?: AbortSignal;
}

// ------------------------------------------------------------------ loading

type Tree = { [k: string]: unknown };

/** Put the flattened `scripts.*` keys back into one object per script. */
function scriptTrees(config: Config): Map<string, Tree> {
  const trees = new Map<string, Tree>();
  for (const [key, value] of config.childrenOf('scripts')) {
    const parts = key.split('.');
    const name = parts[0]!;
    let node = trees.get(name);
    if (!node) trees.set(name, (node = {}));
    for (let i = 1; i < parts.length - 1; i++) {
      const p = parts[i]!;
      if (node[p] === undefined || node[p] === null || typeof node[p] !== 'object' || Array.isArray(node[p])) node[p] = {};
      node = node[p] as Tree;
    }
    node[parts[parts.length - 1]!] = value;
  }
  return trees;
}

function bad(name: string, why: string): ConfigError {
  return new ConfigError(`script '${name}' in config is invalid: ${why}`,
    `fix "scripts" → "${name}" in config.json (scripts are edited by hand there)`, 'script.invalid_definition');
}

/** Check one definition (the nested object of `scripts.<name>`). */
export function checkScript(name: string, tree: Tree): ScriptDef {
  if (!NAME.test(name)) throw bad(name.slice(0, 64), 'its name may hold only letters, digits, _ and - (at most 64)');
  const { command, params: rawParams = {}, timeout = DEFAULT_SCRIPT_TIMEOUT_S, maxOutput = DEFAULT_MAX_OUTPUT,
    scope = 'admin', description = null, env: rawEnv = {} } = tree;

  if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string')) {
    throw bad(name, '"command" must be a non-empty array of strings (the program, then its arguments; no shell)');
  }
  if (command[0] === '' || PLACEHOLDER_ANYWHERE.test(command[0]!)) throw bad(name, 'the program (first element of "command") must be a fixed name, not empty and not a {placeholder}');
  if (command.some((a) => /[\0]/.test(a))) throw bad(name, '"command" must not contain NUL characters');

  if (rawParams === null || typeof rawParams !== 'object' || Array.isArray(rawParams)) throw bad(name, '"params" must be an object');
  const params: Record<string, ScriptParam> = {};
  for (const [p, spec] of Object.entries(rawParams as Tree)) {
    if (!PARAM_NAME.test(p)) throw bad(name, `parameter name '${p.slice(0, 64)}' must start with a letter or _ and hold only letters, digits, _ and -`);
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw bad(name, `parameter '${p}' must be an object {"pattern": "…", "required": true|false}`);
    const { pattern, required = false, ...rest } = spec as Tree;
    const extra = Object.keys(rest);
    if (extra.length) throw bad(name, `parameter '${p}' has unknown field(s): ${extra.join(', ')}`);
    if (typeof pattern !== 'string' || pattern === '') throw bad(name, `parameter '${p}' needs a "pattern" (a regular expression the whole value must match)`);
    if (typeof required !== 'boolean') throw bad(name, `parameter '${p}': "required" must be true or false`);
    let regex: RegExp;
    try {
      regex = new RegExp(`^(?:${pattern})$`, 'u');
    } catch (e) {
      throw bad(name, `parameter '${p}': "pattern" is not a valid regular expression (${(e as Error).message})`);
    }
    params[p] = { pattern, regex, required };
  }

  const used = new Set<string>();
  for (const arg of command.slice(1)) {
    const whole = PLACEHOLDER_WHOLE.exec(arg);
    if (whole) {
      if (!params[whole[1]!]) throw bad(name, `"command" uses {${whole[1]}} but "params" does not declare '${whole[1]}'`);
      used.add(whole[1]!);
    } else if (PLACEHOLDER_ANYWHERE.test(arg)) {
      throw bad(name, `placeholders must be whole argv elements: '${arg.slice(0, 80)}' mixes one with other text (use a separate element, e.g. ["--file", "{file}"])`);
    }
  }
  for (const p of Object.keys(params)) {
    if (!used.has(p)) throw bad(name, `parameter '${p}' is declared but "command" has no {${p}} element`);
  }

  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_SCRIPT_TIMEOUT_S) {
    throw bad(name, `"timeout" must be a number of seconds above 0 and at most ${MAX_SCRIPT_TIMEOUT_S}`);
  }
  if (typeof maxOutput !== 'number' || !Number.isInteger(maxOutput) || maxOutput < 1 || maxOutput > MAX_MAX_OUTPUT) {
    throw bad(name, `"maxOutput" must be a whole number of bytes from 1 to ${MAX_MAX_OUTPUT}`);
  }
  if (!isScope(scope)) throw bad(name, '"scope" must be read, control or admin');
  if (description !== null && (typeof description !== 'string' || /[\0\r\n]/.test(description))) throw bad(name, '"description" must be one line of text');

  if (rawEnv === null || typeof rawEnv !== 'object' || Array.isArray(rawEnv)) throw bad(name, '"env" must be an object of strings');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawEnv as Tree)) {
    if (!ENV_NAME.test(k)) throw bad(name, `"env" name '${k.slice(0, 64)}' is not a valid variable name`);
    if (/^MEDIAGATE_/i.test(k)) throw bad(name, `"env" must not set ${k}: MEDIAGATE_* variables are never given to scripts`);
    if (typeof v !== 'string' || v.includes('\0')) throw bad(name, `"env" value of ${k} must be a string`);
    env[k] = v;
  }
  return { name, command: [...command] as string[], params, timeout, maxOutput, scope, description: description as string | null, env };
}

/** Every script in config, checked (the first invalid one is a ConfigError naming it). Sorted by name. */
export function loadScripts(config: Config): Map<string, ScriptDef> {
  const out = new Map<string, ScriptDef>();
  const trees = [...scriptTrees(config)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, tree] of trees) out.set(name, checkScript(name, tree));
  return out;
}

export function scriptInfo(def: ScriptDef): ScriptInfo {
  return {
    name: def.name,
    description: def.description,
    scope: def.scope,
    timeout: def.timeout,
    params: Object.entries(def.params).map(([name, p]) => ({ name, pattern: p.pattern, required: p.required })),
  };
}

/**
 * The scripts, as shown to a caller: name, description, scope, timeout and
 * parameters (never the command or env values). With `scope`, only the
 * scripts that scope may run.
 */
export function listScripts(config: Config, scope?: Scope): ScriptInfo[] {
  return [...loadScripts(config).values()].filter((d) => scope === undefined || scopeAllows(scope, d.scope)).map(scriptInfo);
}

// ------------------------------------------------------------------ checks

function shownName(text: string): string {
  return String(text).replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

function capped(s: string): string {
  return JSON.stringify(s.length > AUDIT_VALUE_CHARS ? `${s.slice(0, AUDIT_VALUE_CHARS)}…` : s);
}

/**
 * `k="v", …` for the audit log: values capped, JSON-quoted so control
 * characters stay visible. An array (the CLI's raw `--param` texts that could
 * not be parsed) is shown as its capped elements; undefined means the API
 * request's body could not be read; anything else is shown by its type.
 */
function paramsForAudit(params: unknown): string {
  if (Array.isArray(params)) {
    const parts = params.slice(0, 20).map((v) => capped(typeof v === 'string' ? v : String(JSON.stringify(v))));
    return parts.length ? `raw ${parts.join(' ')}` : '(none)';
  }
  if (params === undefined) return '(body not read)'; // the API request's body could not be read
  if (params === null || typeof params !== 'object') {
    return `(not an object: ${params === null ? 'null' : typeof params === 'string' ? capped(params) : typeof params})`;
  }
  const parts = Object.entries(params as Record<string, unknown>).slice(0, 20).map(([k, v]) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
    return `${shownName(k)}=${capped(s)}`;
  });
  return parts.length ? parts.join(' ') : '(none)';
}

export interface RefusedRun {
  actor: AuditActor;
  audit: AuditSink;
  /** The script name as asked for (shown capped and printable). */
  name: string;
  /** The parameters as received, whatever their shape. */
  params: unknown;
  /** Why: a MediagateError or an HTTP error (code and message are audited). */
  error: { code: string; message: string };
  ip?: string | undefined;
  requestId?: string | undefined;
  /** Audit detail prefix, e.g. `callback pause`. */
  reason?: string | undefined;
  outcome?: 'denied' | 'error';
}

/**
 * Audit one refused run as `script.run` (outcome denied): who, which script,
 * why (error code and message) and the parameters, capped. The one shape for
 * every refusal, wherever it happens (runScript, the API's rate limit and
 * body checks, the CLI's --param parsing).
 */
export function auditRefusedRun(r: RefusedRun): void {
  r.audit.append({
    actor: r.actor,
    action: 'script.run',
    target: shownName(r.name),
    outcome: r.outcome ?? 'denied',
    ...(r.ip ? { ip: r.ip } : {}),
    ...(r.requestId ? { requestId: r.requestId } : {}),
    detail: `${r.reason ? `${r.reason}; ` : ''}refused (${r.error.code}): ${r.error.message}; params: ${paramsForAudit(r.params)}`,
  });
}

/** The argv with every placeholder replaced by its value (optional parameters not given: the element is left out). */
export function buildArgv(def: ScriptDef, params: Record<string, string>): string[] {
  const argv: string[] = [];
  for (const arg of def.command) {
    const whole = PLACEHOLDER_WHOLE.exec(arg);
    if (!whole) { argv.push(arg); continue; }
    const v = params[whole[1]!];
    if (v !== undefined) argv.push(v);
  }
  return argv;
}

/** Refuse anything about the parameters that is not exactly right; nothing has run yet. */
export function checkParams(def: ScriptDef, params: unknown): Record<string, string> {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new UsageError(`parameters of script '${def.name}' must be an object of name → text`, undefined, 'script.invalid_param');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    const spec = Object.hasOwn(def.params, k) ? def.params[k] : undefined;
    if (!spec) {
      const known = Object.keys(def.params);
      throw new UsageError(`script '${def.name}' has no parameter '${shownName(k)}'`,
        known.length ? `its parameters: ${known.join(', ')}` : 'it takes no parameters', 'script.unknown_param');
    }
    if (typeof v !== 'string') throw new UsageError(`parameter '${k}' of script '${def.name}' must be text`, undefined, 'script.invalid_param');
    if (v.length > MAX_PARAM_LENGTH) throw new UsageError(`parameter '${k}' of script '${def.name}' is too long (over ${MAX_PARAM_LENGTH} characters)`, undefined, 'script.invalid_param');
    let matches: boolean;
    try {
      matches = !v.includes('\0') && testWithin(spec.regex, v, PATTERN_TIME_LIMIT_MS);
    } catch (e) {
      if (!(e instanceof MatchTimeout)) throw e;
      throw new UsageError(`parameter '${k}' of script '${def.name}' was refused: checking it against its pattern took over ${e.ms} ms`,
        `the pattern backtracks (${spec.pattern}); the owner should rewrite it without nested repetition such as (a+)+`, 'script.invalid_param');
    }
    if (!matches) {
      throw new UsageError(`parameter '${k}' of script '${def.name}' does not match its pattern`,
        `the whole value must match: ${spec.pattern}`, 'script.invalid_param');
    }
    out[k] = v;
  }
  for (const [k, spec] of Object.entries(def.params)) {
    if (spec.required && out[k] === undefined) {
      throw new UsageError(`script '${def.name}' needs parameter '${k}'`, `give it with --param ${k}=VALUE (must match: ${spec.pattern})`, 'script.missing_param');
    }
  }
  return out;
}

// ------------------------------------------------------------------ running

/** One run at a time per script name, in this process. */
class ScriptLocks {
  private readonly held = new Set<string>();
  private readonly waiting = new Map<string, Array<() => void>>();

  tryAcquire(name: string): boolean {
    if (this.held.has(name)) return false;
    this.held.add(name);
    return true;
  }

  acquire(name: string): Promise<void> {
    if (this.tryAcquire(name)) return Promise.resolve();
    return new Promise((resolve) => {
      const q = this.waiting.get(name) ?? [];
      q.push(resolve);
      this.waiting.set(name, q);
    });
  }

  release(name: string): void {
    const q = this.waiting.get(name);
    const next = q?.shift();
    if (q && q.length === 0) this.waiting.delete(name);
    if (next) next(); // handed over: stays held
    else this.held.delete(name);
  }
}

const locks = new ScriptLocks();

/** Process groups of scripts running now: ended if this process exits first. */
const liveGroups = new Set<number>();
let exitHook = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const g of liveGroups) { try { process.kill(-g, 'SIGKILL'); } catch { /* gone */ } }
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // no such group any more
  }
}

function groupAlive(pid: number): boolean {
  try { process.kill(-pid, 0); return true; } catch { return false; }
}

/** Keeps the first `max` bytes of a stream, reads and drops the rest. */
class Capped {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  add(chunk: Buffer | Uint8Array | string): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const room = this.max - this.kept;
    if (room <= 0) { if (b.length) this.truncated = true; return; }
    if (b.length > room) {
      this.chunks.push(Buffer.from(b.subarray(0, room)));
      this.kept += room;
      this.truncated = true;
    } else {
      this.chunks.push(Buffer.from(b));
      this.kept += b.length;
    }
  }

  text(): string {
    let buf = Buffer.concat(this.chunks);
    if (this.truncated) {
      // Do not end on half a UTF-8 character.
      let end = buf.length;
      let back = 0;
      while (end > 0 && back < 4 && (buf[end - 1]! & 0xc0) === 0x80) { end--; back++; }
      if (end > 0 && buf[end - 1]! >= 0xc0) {
        const lead = buf[end - 1]!;
        const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
        if (back + 1 < need) buf = buf.subarray(0, end - 1);
      }
    }
    return buf.toString('utf8');
  }
}

/** PATH, HOME, LANG from `from`, then the script's own env. Nothing else. */
export function scriptEnv(def: ScriptDef, from: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {
    PATH: from.PATH || '/usr/local/bin:/usr/bin:/bin',
    LANG: from.LANG || 'C.UTF-8',
  };
  if (from.HOME) env.HOME = from.HOME;
  return { ...env, ...def.env };
}

/**
 * Run script `name` with `params` (see the file comment for every check).
 * Resolves with the result for any exit status, timeout included; rejects
 * (after auditing the refusal) when the script is unknown, the scope is
 * short, a parameter is wrong, the script is busy or cannot be started.
 *
 * Errors: script.not_found (2 → 404), auth.insufficient_scope (4 → 403),
 * script.unknown_param / script.invalid_param / script.missing_param (2 → 422),
 * script.busy (3 → 503), script.invalid_definition (5), script.start_failed (1 → 500).
 */
export async function runScript(config: Config, name: string, params: Record<string, string>, opts: RunOptions): Promise<ScriptResult> {
  const base = { actor: opts.actor, action: 'script.run', target: shownName(name), ...(opts.ip ? { ip: opts.ip } : {}), ...(opts.requestId ? { requestId: opts.requestId } : {}) };
  const reason = opts.reason ? `${opts.reason}; ` : '';
  const refuse = (e: MediagateError, outcome: 'denied' | 'error' = 'denied'): never => {
    auditRefusedRun({ actor: opts.actor, audit: opts.audit, name, params, error: e, ip: opts.ip, requestId: opts.requestId, reason: opts.reason, outcome });
    throw e;
  };

  let def: ScriptDef | undefined;
  try {
    def = loadScripts(config).get(name);
  } catch (e) {
    if (e instanceof MediagateError) refuse(e, 'error');
    throw e;
  }
  if (!def || !NAME.test(name)) {
    refuse(new UsageError(`no script named '${shownName(name)}'`, 'list them with: mediagate script list', 'script.not_found'));
  }
  const script = def!;
  if (!isScope(opts.scope) || !scopeAllows(opts.scope, script.scope)) {
    refuse(new AuthError(`script '${script.name}' needs the ${script.scope} scope`, undefined, 'auth.insufficient_scope'));
  }
  let values: Record<string, string> = {};
  try {
    values = checkParams(script, params);
  } catch (e) {
    if (e instanceof MediagateError) refuse(e);
    throw e;
  }
  const exclusive = opts.exclusive !== false;
  if (!exclusive) { /* callbacks: no shared lock */ } else if (opts.wait) await locks.acquire(script.name);
  else if (!locks.tryAcquire(script.name)) {
    refuse(new NoPlayerError(`script '${script.name}' is already running`, 'wait for it to finish and try again', 'script.busy'));
  }
  try {
    if (opts.signal?.aborted) {
      refuse(new MediagateError('script.cancelled', `script '${script.name}' was not started: ${abortText(opts.signal!)}`, ExitCode.failure), 'error');
    }
    const result = await spawnScript(script, buildArgv(script, values), opts);
    const ended = result.exitCode !== null ? `exit ${result.exitCode}` : `killed by ${result.signal}`;
    const how = result.timedOut ? `timed out after ${script.timeout} s`
      : opts.signal?.aborted ? `interrupted (${abortText(opts.signal)}), ${ended}` : ended;
    opts.audit.append({
      ...base,
      outcome: result.exitCode === 0 && !result.timedOut && !opts.signal?.aborted ? 'ok' : 'error',
      detail: `${reason}${how} in ${result.durationMs} ms${result.truncated ? ', output truncated' : ''}; params: ${paramsForAudit(values)}`,
    });
    return result;
  } catch (e) {
    if (e instanceof MediagateError && e.code === 'script.cancelled') throw e;
    const err = e instanceof MediagateError ? e : new MediagateError('script.start_failed', `script '${script.name}' could not be started`, ExitCode.failure);
    opts.audit.append({ ...base, outcome: 'error', detail: `${reason}${err.code}: ${err.message}; params: ${paramsForAudit(values)}` });
    throw err;
  } finally {
    if (exclusive) locks.release(script.name);
  }
}

/** Why a run was ended through its AbortSignal: the reason when it is text (e.g. SIGINT). */
function abortText(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? shownName(signal.reason) : 'mediagate is shutting down';
}

let execaModule: Promise<typeof import('execa')> | undefined;
/**
 * Load execa now rather than on the first run (its import costs 150–300 ms):
 * long-running callers (serve, callbacks) call this at start so the first
 * callback is not late. Harmless to call more than once.
 */
export function preloadScriptRunner(): Promise<void> {
  execaModule ??= import('execa');
  return execaModule.then(() => undefined, () => undefined);
}

async function spawnScript(def: ScriptDef, argv: string[], opts: RunOptions): Promise<ScriptResult> {
  execaModule ??= import('execa');
  const { execa } = await execaModule;
  const from = opts.env ?? process.env;
  const env = scriptEnv(def, from);
  const cwd = env.HOME && existsSync(env.HOME) ? env.HOME : '/';
  const out = new Capped(def.maxOutput);
  const err = new Capped(def.maxOutput);
  const started = Date.now();
  let timedOut = false;

  const sub = execa(argv[0]!, argv.slice(1), {
    shell: false,
    env,
    extendEnv: false,
    cwd,
    detached: true, // its own process group, so the whole tree can be ended
    cleanup: false, // done here for the group (execa's covers only the leader)
    buffer: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    reject: false,
    windowsHide: true,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const pid = sub.pid;
  sub.stdout?.on('data', (c: Buffer) => out.add(c));
  sub.stderr?.on('data', (c: Buffer) => err.add(c));

  let killTimer: NodeJS.Timeout | undefined;
  let streamsTimer: NodeJS.Timeout | undefined;
  /** SIGTERM the group, SIGKILL it after the grace period if anything is left. */
  const endGroup = () => {
    if (pid === undefined || killTimer) return;
    if (!killGroup(pid, 'SIGTERM')) return;
    killTimer = setTimeout(() => { killGroup(pid, 'SIGKILL'); }, KILL_GRACE_MS);
  };
  if (pid !== undefined) trackGroup(pid);
  const timer = setTimeout(() => { timedOut = true; endGroup(); }, def.timeout * 1000);
  const onAbort = () => endGroup();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  sub.once('exit', () => {
    // The leader is gone; children it left behind (and holding our pipes) go too.
    if (pid !== undefined && groupAlive(pid)) endGroup();
    // Never wait for pipes forever: a process that escaped the group may hold them.
    streamsTimer = setTimeout(() => { sub.stdout?.destroy(); sub.stderr?.destroy(); }, KILL_GRACE_MS + 1000);
  });

  let result;
  try {
    result = await sub;
  } finally {
    clearTimeout(timer);
    clearTimeout(streamsTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    if (pid !== undefined) {
      if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
      clearTimeout(killTimer);
      liveGroups.delete(pid);
    }
  }
  const durationMs = Date.now() - started;
  const r = result as { exitCode?: number; signal?: string; failed?: boolean; code?: string; cause?: unknown };
  if (r.exitCode === undefined && r.signal === undefined) {
    const code = r.code ?? ((r.cause as NodeJS.ErrnoException | undefined)?.code) ?? 'error';
    throw new MediagateError('script.start_failed', `script '${def.name}' could not be started (${code})`, ExitCode.failure,
      code === 'ENOENT' ? `check the program in "scripts" → "${def.name}" → "command" (found through the PATH mediagate runs with)` : undefined);
  }
  return {
    script: def.name,
    exitCode: r.exitCode ?? null,
    signal: r.signal ?? null,
    timedOut,
    truncated: out.truncated || err.truncated,
    stdout: out.text(),
    stderr: err.text(),
    durationMs,
  };
}
