/**
 * What to offer for the word being completed on a mediagate command line —
 * one engine for bash, zsh and fish (their scripts only hand the words over
 * and show the answer; see scripts.ts). Pure: the commands come from the
 * oclif manifest, the live names (players, remotes, nodes, config keys) are
 * asked for through `lookup` only when the word needs them.
 */
export interface SpecFlag { name: string; char?: string; type: 'boolean' | 'option'; options?: string[]; helpValue?: string; description?: string; multiple?: boolean }
export interface SpecArg { name: string; options?: string[]; description?: string }
export interface SpecCommand { id: string; aliases?: string[]; hidden?: boolean; summary?: string; flags: Record<string, SpecFlag>; args: Record<string, SpecArg> }

/** Names only a live lookup knows. */
export type DynamicSource = 'players' | 'remotes' | 'nodes' | 'config-keys' | 'scripts';

export interface Candidate { value: string; description?: string | undefined }
export type Answer =
  | { kind: 'values'; values: Candidate[] }
  | { kind: 'files' }
  | { kind: 'dynamic'; source: DynamicSource; cur: string; prefix: string };

/** Which live source fills a flag's value. */
function flagSource(f: SpecFlag): DynamicSource | 'files' | undefined {
  if (f.name === 'player' || f.name === 'ignore-player') return 'players';
  if (f.name === 'remote') return 'remotes';
  if (f.name === 'node') return 'nodes';
  if (/^(FILE|DIR|PATH)$/.test(f.helpValue ?? '')) return 'files';
  return undefined;
}

/** Which live source fills a positional argument. */
function argSource(cmd: SpecCommand, a: SpecArg): DynamicSource | 'files' | undefined {
  if (cmd.id.startsWith('config:') && a.name === 'key') return 'config-keys';
  if ((cmd.id === 'remote:use' || cmd.id === 'remote:remove') && a.name === 'name') return 'remotes';
  if (cmd.id.startsWith('script:') && a.name === 'name') return 'scripts';
  if (a.name === 'path' || a.name === 'file') return 'files';
  return undefined;
}

const HELP: SpecFlag = { name: 'help', type: 'boolean', description: 'show help' };

function findFlag(cmd: SpecCommand | undefined, word: string): SpecFlag | undefined {
  if (!cmd) return word === '--remote' || word === '-r' ? { name: 'remote', type: 'option' } : undefined;
  const flags = Object.values(cmd.flags);
  if (word.startsWith('--')) return flags.find((f) => f.name === word.slice(2));
  return flags.find((f) => f.char && word === `-${f.char}`);
}

/**
 * bash splits `--player=mp` into `--player`, `=`, `mp` (COMP_WORDBREAKS);
 * put such words back together.
 */
export function joinAssignments(words: string[]): { words: string[]; splitAtEquals: boolean } {
  const out: string[] = [];
  let splitAtEquals = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '=' && out.length && out[out.length - 1]!.startsWith('--') && !out[out.length - 1]!.includes('=')) {
      out[out.length - 1] += '=' + (words[i + 1] ?? '');
      if (i + 1 >= words.length - 1) splitAtEquals = true;
      i++;
      continue;
    }
    out.push(w);
  }
  return { words: out, splitAtEquals };
}

function values(list: Candidate[], cur: string, prefix = ''): Answer {
  return { kind: 'values', values: list.filter((c) => c.value.startsWith(cur)).map((c) => ({ ...c, value: prefix + c.value })) };
}

function valueAnswer(f: SpecFlag, cur: string, prefix: string): Answer {
  if (f.options) return values(f.options.map((o) => ({ value: o })), cur, prefix);
  const src = flagSource(f);
  if (src === 'files') return { kind: 'files' };
  if (src) return { kind: 'dynamic', source: src, cur, prefix };
  return { kind: 'values', values: [] };
}

/**
 * The answer for `words` (everything after `mediagate`; the last one is the
 * word being completed, maybe empty). `valuePrefixed`: whether a value after
 * `--flag=` is offered with the `--flag=` in front (zsh, fish) or bare (bash,
 * which completes only the part after `=`).
 */
export function complete(commands: SpecCommand[], input: string[], opts: { valuePrefixed: boolean }): Answer {
  const { words } = joinAssignments(input.length ? input : ['']);
  const cur = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  const visible = commands.filter((c) => !c.hidden);
  const byId = new Map<string, SpecCommand>();
  for (const c of visible) { byId.set(c.id, c); for (const a of c.aliases ?? []) byId.set(a, c); }
  const isTopic = (p: string) => visible.some((c) => c.id.startsWith(`${p}:`));

  let path = '';
  let cmd: SpecCommand | undefined;
  let positional = 0;
  let pendingFlag: SpecFlag | undefined;
  let afterDashes = false;
  for (const w of before) {
    if (pendingFlag) { pendingFlag = undefined; continue; }
    if (!afterDashes && w === '--') { afterDashes = true; continue; }
    if (!afterDashes && w.startsWith('-') && w.length > 1 && !/^-\d/.test(w)) {
      const f = findFlag(cmd, w.split('=')[0]!);
      if (f?.type === 'option' && !w.includes('=')) pendingFlag = f;
      continue;
    }
    const next = path ? `${path}:${w}` : w;
    if (positional === 0 && (byId.has(next) || isTopic(next))) { path = next; cmd = byId.get(next); continue; }
    positional++;
  }

  if (pendingFlag) return valueAnswer(pendingFlag, cur, '');
  if (!afterDashes && cur.startsWith('--') && cur.includes('=')) {
    const [name] = cur.split('=');
    const f = findFlag(cmd, name!);
    if (!f || f.type !== 'option') return { kind: 'values', values: [] };
    const prefix = opts.valuePrefixed ? `${name}=` : '';
    return valueAnswer(f, cur.slice(name!.length + 1), prefix);
  }
  if (!afterDashes && cur.startsWith('-')) {
    const used = new Set(before.filter((w) => w.startsWith('-')).map((w) => w.split('=')[0]));
    const flags = [...Object.values(cmd?.flags ?? {}), HELP];
    const list = flags.filter((f) => f.multiple || (!used.has(`--${f.name}`) && !(f.char && used.has(`-${f.char}`))))
      .map((f) => ({ value: `--${f.name}`, description: f.description }));
    return values(list, cur);
  }

  const out: Candidate[] = [];
  if (positional === 0) {
    const depth = path ? path.split(':').length : 0;
    const seen = new Set<string>();
    for (const [id, c] of byId) {
      if (path && !id.startsWith(`${path}:`)) continue;
      const word = id.split(':')[depth];
      if (!word || seen.has(word)) continue;
      seen.add(word);
      const full = path ? `${path}:${word}` : word;
      out.push({ value: word, description: byId.get(full)?.summary ?? (isTopic(full) ? `${word} commands` : c.summary) });
    }
  }
  const arg = cmd ? Object.values(cmd.args)[positional] : undefined;
  if (cmd && arg) {
    if (arg.options) out.push(...arg.options.map((o) => ({ value: o, description: arg.description })));
    else {
      const src = argSource(cmd, arg);
      if (src === 'files' && out.length === 0) return { kind: 'files' };
      if (src && src !== 'files' && out.length === 0) return { kind: 'dynamic', source: src, cur, prefix: '' };
    }
  }
  out.sort((a, b) => a.value.localeCompare(b.value));
  return values(out, cur);
}
