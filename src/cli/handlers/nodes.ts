import { Config } from '../../core/config/store.js';
import { escapeValue } from '../../core/format.js';
import type { NodeInfo } from '../../client/fleet.js';
import { out, outJson, outJsonLine, type Ctx } from '../context.js';

export interface NodesFlags { follow?: boolean | undefined }

/** One node as `nodes --json` prints it (stable, additive-only). */
export function nodeJson(n: NodeInfo) {
  const s = n.state ?? {};
  return {
    node: n.node,
    online: n.online,
    volume: typeof s.volume === 'number' ? s.volume : null,
    muted: typeof s.muted === 'boolean' ? s.muted : null,
    active: typeof s.active === 'string' ? s.active : null,
    nowPlaying: s.nowPlaying && typeof s.nowPlaying === 'object' ? s.nowPlaying : null,
    players: Array.isArray(s.players) ? s.players : [],
  };
}

const clean = (v: unknown): string => (typeof v === 'string' && v !== '' ? escapeValue(v, 'plain') : '—');

function nodeLine(n: NodeInfo): string {
  const j = nodeJson(n);
  const np = j.nowPlaying as Record<string, unknown> | null;
  const what = np && np.status !== 'stopped' && np.title ? `${np.artist ? `${clean(np.artist)} - ` : ''}${clean(np.title)}` : '';
  return `${clean(j.node).padEnd(16)} ${(j.online ? 'online' : 'offline').padEnd(8)} ${(np ? clean(np.player) : '—').padEnd(12)} ${(np ? String(np.status) : '—').padEnd(8)} ${j.volume === null ? '—' : `${j.volume}${j.muted ? ' (muted)' : ''}`.padEnd(11)} ${what}`.trimEnd();
}

/**
 * `mediagate nodes`: every mediagate node the MQTT broker knows (their
 * retained availability and state), with each one's now-playing. --follow
 * prints a line (an object with --json) whenever a node changes, pushed by
 * the broker.
 */
export async function nodes(ctx: Ctx, flags: NodesFlags): Promise<void> {
  const config = Config.load(ctx.env);
  const { Fleet } = await import('../../client/fleet.js');
  const fleet = await Fleet.open(config, ctx.env);
  try {
    if (!flags.follow) {
      const list = await fleet.nodes();
      if (ctx.json) { outJson(ctx, list.map(nodeJson)); return; }
      if (list.length === 0) { ctx.stderr.write('no mediagate node has announced itself on the broker\n'); return; }
      out(ctx, `${'NODE'.padEnd(16)} ${'STATE'.padEnd(8)} ${'PLAYER'.padEnd(12)} ${'STATUS'.padEnd(8)} ${'VOLUME'.padEnd(11)} NOW PLAYING`);
      for (const n of list) out(ctx, nodeLine(n));
      return;
    }
    const shown = new Map<string, string>();
    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
      ctx.stdout.once('error', () => resolve());
    });
    await fleet.follow((list) => {
      for (const n of list) {
        const line = ctx.json ? JSON.stringify(nodeJson(n)) : nodeLine(n);
        if (shown.get(n.node) === line) continue;
        shown.set(n.node, line);
        if (ctx.json) outJsonLine(ctx, nodeJson(n)); else out(ctx, line);
      }
    }, stop);
  } finally {
    await fleet.close();
  }
}
