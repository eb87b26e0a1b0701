/**
 * The MQTT topic layout of one mediagate node, shared by the bridge in
 * `serve` (src/server/mqtt) and the fleet commands (src/client/fleet):
 *
 *   <base>/<node>/availability          retained online | offline (the last will)
 *   <base>/<node>/state                 retained: volume, muted, active player, the players
 *   <base>/<node>/player/<id>/state     retained, one per player (as `play status --json`)
 *   <base>/<node>/player/<id>/artwork   retained raw image bytes (capped)
 *   <base>/<node>/active/state|artwork  the same for the player bare commands act on
 *   <base>/<node>/player/<id>/set       commands (never retained)
 *   <base>/<node>/active/set
 *   <base>/<node>/active/player/set     choose the active player (a player id)
 *   <base>/<node>/volume/set            a number, +N, -N
 *   <base>/<node>/mute/set              ON, OFF, TOGGLE
 *   <base>/<node>/error                 refusals (not retained)
 *   <base>/<node>/result                answers to commands that carried an "id" (not retained)
 */

/** What a node name (`mqtt.node`) may hold: a topic level that needs no escaping anywhere. */
export const NODE_PATTERN = /^[a-z0-9_-]{1,64}$/;

/** This machine's default node name: its host name, lower-cased, other characters as `-`. */
export function nodeFromHostname(hostname: string): string {
  const slug = hostname.toLowerCase().split('.')[0]!.replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  return slug || 'mediagate';
}

const INSTANCE = /\.instance(\d+)$/;

/**
 * The topic id of a player: its name without an MPRIS `.instanceNNN`
 * suffix (which changes with every start of the player), lower-cased, every
 * character outside `[a-z0-9_-]` as `_`. So `vlc.instance4711` → `vlc`,
 * `chromium.instance99` → `chromium`, `mpd` → `mpd`: the same id after a
 * restart of the player or of serve.
 */
export function playerId(name: string): string {
  const id = name.replace(INSTANCE, '').toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 64);
  return id || '_';
}

/**
 * Ids for every player of one snapshot, unique: a player without an instance
 * suffix claims its id first; a second one with the same id (two mpv
 * processes: `mpv` and `mpv.instance42`) gets `<id>_<instance>`.
 */
export function assignPlayerIds(names: readonly string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  const order = [...names].sort((a, b) => Number(INSTANCE.test(a)) - Number(INSTANCE.test(b)));
  for (const name of order) {
    let id = playerId(name);
    if (taken.has(id)) {
      const n = INSTANCE.exec(name)?.[1];
      let k = 2;
      const base = id;
      id = n ? `${base}_${n}` : `${base}_${k}`;
      while (taken.has(id)) id = `${base}_${++k}`;
    }
    taken.add(id);
    ids.set(name, id);
  }
  return ids;
}

/** The topics of one node. */
export class NodeTopics {
  readonly root: string;

  constructor(readonly base: string, readonly node: string) {
    this.root = `${base}/${node}`;
  }

  get availability(): string { return `${this.root}/availability`; }
  get state(): string { return `${this.root}/state`; }
  get error(): string { return `${this.root}/error`; }
  get result(): string { return `${this.root}/result`; }
  get activeState(): string { return `${this.root}/active/state`; }
  get activeArtwork(): string { return `${this.root}/active/artwork`; }
  get activeSet(): string { return `${this.root}/active/set`; }
  get activePlayerSet(): string { return `${this.root}/active/player/set`; }
  get volumeSet(): string { return `${this.root}/volume/set`; }
  get muteSet(): string { return `${this.root}/mute/set`; }
  playerState(id: string): string { return `${this.root}/player/${id}/state`; }
  playerArtwork(id: string): string { return `${this.root}/player/${id}/artwork`; }
  playerSet(id: string): string { return `${this.root}/player/${id}/set`; }
  /** What the bridge subscribes to for commands (and nothing else of its own). */
  get commandFilters(): string[] {
    return [`${this.root}/player/+/set`, this.activeSet, this.activePlayerSet, this.volumeSet, this.muteSet];
  }
}

/** What a command topic of `topics` addresses, or null when it is none of them. */
export type CommandTarget =
  | { kind: 'player'; id: string }
  | { kind: 'active' }
  | { kind: 'select' }
  | { kind: 'volume' }
  | { kind: 'mute' };

export function commandTarget(topics: NodeTopics, topic: string): CommandTarget | null {
  if (topic === topics.activeSet) return { kind: 'active' };
  if (topic === topics.activePlayerSet) return { kind: 'select' };
  if (topic === topics.volumeSet) return { kind: 'volume' };
  if (topic === topics.muteSet) return { kind: 'mute' };
  const prefix = `${topics.root}/player/`;
  if (topic.startsWith(prefix) && topic.endsWith('/set')) {
    const id = topic.slice(prefix.length, -'/set'.length);
    if (/^[a-z0-9_-]{1,64}$/.test(id)) return { kind: 'player', id };
  }
  return null;
}
