import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { complete, type Candidate, type DynamicSource, type SpecCommand } from '../completion/engine.js';
import { completionScript, formatCandidate, SHELLS, type Shell } from '../completion/scripts.js';
import type { Ctx } from '../context.js';

/**
 * How long a completion waits for live names (a player bus, MPD, the MQTT
 * broker) before answering without them; MEDIAGATE_COMPLETION_TIMEOUT_MS
 * changes it (a slow broker worth waiting for; the tests on a loaded machine).
 */
export const LOOKUP_BUDGET_MS = 800;

function budget(env: NodeJS.ProcessEnv): number {
  const n = Number(env.MEDIAGATE_COMPLETION_TIMEOUT_MS);
  return Number.isInteger(n) && n > 0 && n <= 60_000 ? n : LOOKUP_BUDGET_MS;
}

function shellOf(text: string | undefined): Shell {
  if (!SHELLS.includes(text as Shell)) throw new UsageError(`unknown shell '${text ?? ''}'`, `one of: ${SHELLS.join(', ')}`, 'usage.unknown_shell');
  return text as Shell;
}

/** `mediagate completion SHELL`: the script. */
export async function completionPrint(ctx: Ctx, shell: string | undefined): Promise<void> {
  ctx.stdout.write(completionScript(shellOf(shell)));
}

/** The commands, read from the package's oclif manifest (next to bin/, which argv[1] is). */
function manifestCommands(): SpecCommand[] {
  const bin = realpathSync(process.argv[1] ?? '');
  const manifest = JSON.parse(readFileSync(join(dirname(bin), '..', 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, SpecCommand> };
  return Object.values(manifest.commands);
}

async function readStdin(ctx: Ctx): Promise<string> {
  let text = '';
  for await (const chunk of ctx.stdin) { text += chunk; if (text.length > 64 * 1024) break; }
  return text;
}

/** Live names for a completion; a source that fails or is slow gives none. */
async function lookup(ctx: Ctx, source: DynamicSource): Promise<Candidate[]> {
  const { Config } = await import('../../core/config/store.js');
  const config = Config.load(ctx.env);
  if (source === 'config-keys') {
    const { describeKeys } = await import('../../core/config/store.js');
    const out: Candidate[] = [];
    for (const k of describeKeys()) {
      if (!k.key.includes('*')) { out.push({ value: k.key, description: k.description }); continue; }
      // remotes.*.url → remotes.home.url for each profile that exists.
      const [head, tail] = k.key.split('.*');
      const names = new Set(config.childrenOf(head!).map(([rest]) => rest.split('.')[0]!));
      for (const n of names) out.push({ value: `${head}.${n}${tail}`, description: k.description });
    }
    return out;
  }
  if (source === 'remotes') {
    const { profileNames } = await import('../../client/profiles.js');
    return [...profileNames(config).map((value) => ({ value, description: config.get<string>(`remotes.${value}.url`) })), { value: 'local', description: 'this machine' }];
  }
  if (source === 'scripts') {
    const names = new Set(config.childrenOf('scripts').map(([rest]) => rest.split('.')[0]!));
    return [...names].map((value) => ({ value, description: 'script' }));
  }
  if (source === 'nodes') {
    if (!config.has('mqtt.url')) return [];
    const { Fleet } = await import('../../client/fleet.js');
    const fleet = await Fleet.open(config, ctx.env);
    try {
      return (await fleet.nodes()).map((n) => ({ value: n.node, description: n.online ? 'online' : 'offline' }));
    } finally {
      await fleet.close();
    }
  }
  const { PlayerHub } = await import('../../core/players/hub.js');
  const hub = new PlayerHub({ env: ctx.env, config });
  try {
    const { players } = await hub.list();
    return players.map((p) => ({ value: p.name, description: p.backend }));
  } finally {
    hub.close().catch(() => undefined);
  }
}

function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, () => { clearTimeout(timer); resolve(fallback); });
  });
}

/**
 * `mediagate completion words --shell SHELL` (hidden; what the scripts
 * call): the words after `mediagate` on stdin, one a line, the last being
 * the one completed; the candidates on stdout.
 */
export async function completionWords(ctx: Ctx, shellText: string | undefined): Promise<void> {
  const shell = shellOf(shellText);
  const text = await readStdin(ctx);
  const words = text.replace(/\n$/, '').split('\n');
  const answer = complete(manifestCommands(), words, { valuePrefixed: shell !== 'bash' });
  let list: Candidate[];
  if (answer.kind === 'files') { ctx.stdout.write('@files\n'); return; }
  if (answer.kind === 'dynamic') {
    const found = await within(lookup(ctx, answer.source), budget(ctx.env), []);
    list = found.filter((c) => c.value.startsWith(answer.cur)).map((c) => ({ ...c, value: answer.prefix + c.value }));
  } else {
    list = answer.values;
  }
  ctx.stdout.write(list.map((c) => `${formatCandidate(shell, c.value, c.description)}\n`).join(''));
}
