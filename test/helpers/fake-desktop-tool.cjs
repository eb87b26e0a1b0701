'use strict';
// Fake `media-control`, `osascript` and `powershell.exe` for the macOS and
// Windows backend tests on Linux. Each executable installed by
// fake-desktop.js is a two-line Node script calling main(tool, dir). They
// share one model of "the desktop" (dir/model.json: what plays, the apps, the
// volume, the media sessions), so a command one of them receives changes what
// the next one reports, as on a real machine. dir/scenario.json asks for
// misbehaviour (hang, crash, stderr noise, split lines and characters,
// non-zero exits, stray answers). Every run appends its argv and the names of
// its environment variables to dir/calls.jsonl.
const fs = require('node:fs');
const path = require('node:path');

function readJson(file, fallback) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return fallback; }
}

function writeJson(file, value) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 1));
  fs.renameSync(tmp, file);
}

function hang() {
  setInterval(() => {}, 1 << 30);
}

/** Write `text` as the scenario says: whole, or in tiny chunks that cut lines and UTF-8 characters. */
function writer(scenario) {
  const queue = [];
  let busy = false;
  const pump = () => {
    if (busy) return;
    const next = queue.shift();
    if (!next) return;
    busy = true;
    const bytes = Buffer.from(next, 'utf8');
    if (!scenario.split) { process.stdout.write(bytes, () => { busy = false; pump(); }); return; }
    let i = 0;
    const step = () => {
      if (i >= bytes.length) { busy = false; pump(); return; }
      const n = 1 + (i % 3);
      process.stdout.write(bytes.subarray(i, i + n));
      i += n;
      setTimeout(step, 1);
    };
    step();
  };
  return (text) => { queue.push(text); pump(); };
}

function main(tool, dir, argv) {
  fs.appendFileSync(path.join(dir, 'calls.jsonl'), `${JSON.stringify({ tool, argv, env: Object.keys(process.env), pid: process.pid, at: Date.now() })}\n`);
  const scenario = readJson(path.join(dir, 'scenario.json'), {})[tool] ?? {};
  const model = () => readJson(path.join(dir, 'model.json'), {});
  const save = (m) => writeJson(path.join(dir, 'model.json'), m);
  if (scenario.stderr) process.stderr.write(`${scenario.stderr}\n`);
  if (scenario.exitAtStart !== undefined) { process.exitCode = scenario.exitAtStart; return; }
  if (tool === 'media-control') return mediaControl(argv, scenario, model, save, dir);
  if (tool === 'osascript') return osascript(argv, scenario, model, save);
  if (tool === 'powershell.exe') return powershell(argv, scenario, model, save, dir);
  process.stderr.write(`unknown fake tool ${tool}\n`);
  process.exitCode = 127;
}

// --- media-control -----------------------------------------------------------

const nowMicros = () => Date.now() * 1000;

function elapsedNow(np) {
  if (!np || np.elapsedTimeMicros === undefined) return 0;
  const ran = np.playing ? nowMicros() - (np.timestampEpochMicros ?? nowMicros()) : 0;
  return Math.max(0, np.elapsedTimeMicros + ran);
}

function mediaControl(argv, scenario, model, save, dir) {
  const [cmd, ...rest] = argv;
  if ((scenario.hang ?? []).includes(cmd)) return hang();
  if (scenario.exit && scenario.exit[cmd] !== undefined) { process.stderr.write(`${cmd} failed on purpose\n`); process.exitCode = scenario.exit[cmd]; return; }
  if (cmd === 'test') { process.exitCode = scenario.test ?? 0; if (process.exitCode) process.stderr.write('MediaRemote framework could not be loaded\n'); return; }
  if (cmd === 'get') {
    const m = model();
    const np = m.nowPlaying ?? null;
    if (!np || Object.keys(np).length === 0) { process.stdout.write('null\n'); return; }
    const out = { ...np };
    if (!rest.includes('--no-artwork') && m.artwork) { out.artworkMimeType = m.artwork.mimeType; out.artworkData = m.artwork.base64; }
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  if (cmd === 'stream') return mediaControlStream(scenario, model, dir);
  const m = model();
  const np = m.nowPlaying;
  if (!np || !np.bundleIdentifier) { process.stderr.write('nothing is playing\n'); process.exitCode = 1; return; }
  const at = (elapsed, playing) => { np.elapsedTimeMicros = Math.round(elapsed); np.timestampEpochMicros = nowMicros(); np.playing = playing; np.playbackRate = playing ? 1 : 0; };
  switch (cmd) {
    case 'play': at(elapsedNow(np), true); break;
    case 'pause': at(elapsedNow(np), false); break;
    case 'toggle-play-pause': at(elapsedNow(np), !np.playing); break;
    case 'stop': at(0, false); break;
    case 'next-track':
    case 'previous-track': {
      const tracks = m.tracks ?? [];
      const i = tracks.findIndex((tr) => tr.title === np.title);
      const next = tracks[(i + (cmd === 'next-track' ? 1 : tracks.length - 1)) % Math.max(1, tracks.length)];
      if (next) Object.assign(np, next);
      at(0, np.playing);
      break;
    }
    case 'seek': at(Number(rest[0]) * 1e6, np.playing); break;
    case 'shuffle': np.shuffleMode = { off: 1, albums: 2, tracks: 3 }[rest[0]] ?? 1; break;
    case 'repeat': np.repeatMode = { off: 1, track: 2, playlist: 3 }[rest[0]] ?? 1; break;
    default: process.stderr.write(`Unknown command '${cmd}'\n`); process.exitCode = 1; return;
  }
  save(m);
}

function mediaControlStream(scenario, model, dir) {
  const write = writer(scenario);
  const line = (diff, payload) => write(`${JSON.stringify({ type: 'data', diff, payload })}\n`);
  const starts = readJson(path.join(dir, 'stream-starts.json'), 0) + 1;
  writeJson(path.join(dir, 'stream-starts.json'), starts);
  if (scenario.garbage) write('this is not json\n');
  if (scenario.otherType) write(`${JSON.stringify({ type: 'debug', payload: {} })}\n`);
  let last = model().nowPlaying ?? {};
  line(false, last);
  if (scenario.crashAfterMs !== undefined) setTimeout(() => { process.stderr.write('stream crashed on purpose\n'); process.exit(scenario.crashCode ?? 2); }, scenario.crashAfterMs);
  const file = path.join(dir, 'model.json');
  let mtime = 0;
  setInterval(() => {
    let st;
    try { st = fs.statSync(file).mtimeMs; } catch { return; }
    if (st === mtime) return;
    mtime = st;
    const now = model().nowPlaying ?? {};
    const identity = (p) => JSON.stringify([p.bundleIdentifier, p.title, p.artist, p.album]);
    if (Object.keys(now).length === 0 || identity(now) !== identity(last)) { line(false, now); last = now; return; }
    const diff = {};
    for (const k of new Set([...Object.keys(last), ...Object.keys(now)])) {
      if (JSON.stringify(last[k]) !== JSON.stringify(now[k])) diff[k] = now[k] === undefined ? null : now[k];
    }
    last = now;
    if (Object.keys(diff).length) line(true, diff);
  }, 30);
  process.on('SIGTERM', () => process.exit(0));
}

// --- osascript ------------------------------------------------------------------

const US = '\u001f';
const RS = '\u001e';

function osascript(argv, scenario, model, save) {
  const lines = [];
  let i = 0;
  for (; i < argv.length; i++) {
    if (argv[i] === '-e') { lines.push(argv[++i]); continue; }
    break;
  }
  const args = argv.slice(i);
  const script = lines.join('\n');
  if (scenario.hang) return hang();
  const m = model();
  const app = /tell application "(Music|Spotify)"/.exec(script)?.[1];
  if (scenario.deny && (app || /set out to \{\}/.test(script))) {
    const who = app ?? 'Music';
    process.stderr.write(`0:50: execution error: Not authorized to send Apple events to ${who}. (-1743)\n`);
    process.exitCode = 1;
    return;
  }
  const v = m.volume ?? { level: 50, muted: false };
  if (/get volume settings/.test(script)) {
    process.stdout.write(v.missing
      ? 'output volume:missing value, input volume:missing value, alert volume:100, output muted:missing value\n'
      : `output volume:${v.level}, input volume:75, alert volume:100, output muted:${v.muted}\n`);
    return;
  }
  if (/set volume output volume/.test(script)) { v.level = Number(args[0]); m.volume = v; save(m); return; }
  if (/set volume with output muted/.test(script)) { v.muted = true; m.volume = v; save(m); return; }
  if (/set volume without output muted/.test(script)) { v.muted = false; m.volume = v; save(m); return; }
  const apps = m.apps ?? {};
  if (/set out to \{\}/.test(script)) {
    const records = ['Music', 'Spotify'].filter((a) => script.includes(`application "${a}" is running`)).map((a) => {
      const s = apps[a];
      if (!s) return `${a}${US}not running`;
      if (s.state === 'stopped') return `${a}${US}stopped`;
      const f = [a, s.state, s.name, s.artist, s.album, s.duration, s.position, String(s.shuffle), String(s.repeat), String(s.volume)];
      if (a === 'Spotify') f.push(s.id ?? '', s.artworkUrl ?? '');
      return f.join(US);
    });
    process.stdout.write(`${records.join(RS)}\n`);
    return;
  }
  if (!app) { process.stderr.write(`fake osascript does not know this script:\n${script}\n`); process.exitCode = 1; return; }
  const s = apps[app];
  if (!s) { process.stdout.write('not running\n'); return; }
  const has = (re) => re.test(script);
  if (has(/playpause/)) s.state = s.state === 'playing' ? 'paused' : 'playing';
  else if (has(/next track/)) { s.name = `${s.name} (next)`; s.position = '0'; }
  else if (has(/previous track/)) { s.position = '0'; }
  else if (has(/set player position/)) s.position = String(Number(args[0]) / 1000).replace('.', s.decimalComma ? ',' : '.');
  else if (has(/set sound volume/)) s.volume = Number(args[0]);
  else if (has(/set (shuffle enabled|shuffling)/)) s.shuffle = args[0] === 'true';
  else if (has(/song repeat|repeating/)) s.repeat = app === 'Music' ? args[0] : args[0] === 'true';
  else if (has(/play track/)) { s.name = args[0]; s.state = 'playing'; }
  else if (has(/\bstop\b/) && app === 'Music') s.state = 'stopped';
  else if (has(/\bpause\b/)) s.state = 'paused';
  else if (has(/\bplay\b/)) s.state = 'playing';
  save(m);
  process.stdout.write('ok\n');
}

// --- powershell.exe (the mediagate helper's protocol) ------------------------------

const EXPECTED = ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File'];

function powershell(argv, scenario, model, save, dir) {
  const script = argv[6];
  if (argv.length !== 7 || EXPECTED.some((a, i) => argv[i] !== a) || !/[\\/]helpers[\\/]windows[\\/]helper\.ps1$/.test(script ?? '') || !fs.existsSync(script)) {
    process.stderr.write(`fake powershell.exe: unexpected command line ${JSON.stringify(argv)}\n`);
    process.exitCode = 64;
    return;
  }
  const starts = readJson(path.join(dir, 'helper-starts.json'), 0) + 1;
  writeJson(path.join(dir, 'helper-starts.json'), starts);
  const write = writer(scenario);
  const send = (obj) => write(`${JSON.stringify(obj)}\n`);
  let handled = 0;
  let watching = false;
  const begin = () => {
    if (scenario.noise) write('WARNING: a profile banner that should have been suppressed\n');
    send({ type: 'ready', version: scenario.version ?? 1, powershell: '5.1.22621.4391', winrt: scenario.winrt !== false, error: scenario.winrt === false ? 'Unable to find type [Windows.Media.Control...]' : null });
  };
  if (scenario.neverReady) return hang();
  setTimeout(begin, scenario.startDelayMs ?? 0);
  let buf = Buffer.alloc(0);
  process.stdin.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    let i;
    while ((i = buf.indexOf(10)) >= 0) {
      const line = buf.subarray(0, i).toString('utf8');
      buf = buf.subarray(i + 1);
      if (line.trim()) handle(JSON.parse(line));
    }
  });
  process.stdin.on('end', () => process.exit(0));
  const file = path.join(dir, 'model.json');
  let lastModel = fs.readFileSync(file, 'utf8');
  const watchTimer = setInterval(() => {
    if (!watching) return;
    let now;
    try { now = fs.readFileSync(file, 'utf8'); } catch { return; }
    if (now === lastModel) return;
    const before = JSON.parse(lastModel);
    const after = JSON.parse(now);
    lastModel = now;
    if (JSON.stringify(before.volume) !== JSON.stringify(after.volume)) send({ type: 'event', event: 'volume' });
    const ids = (m) => (m.sessions ?? []).map((s) => s.id).join(',');
    if (ids(before) !== ids(after)) { send({ type: 'event', event: 'sessions' }); return; }
    for (const s of after.sessions ?? []) {
      const old = (before.sessions ?? []).find((o) => o.id === s.id);
      if (JSON.stringify(old) !== JSON.stringify(s)) send({ type: 'event', event: 'session', session: s.id });
    }
  }, 30);
  watchTimer.unref();

  function handle(req) {
    handled++;
    if (scenario.crashAfter !== undefined && handled > scenario.crashAfter) { process.stderr.write('helper crashed on purpose\n'); process.exit(3); }
    if ((scenario.hangOn ?? []).includes(req.type)) return;
    if (scenario.stray) send({ id: req.id + 1000, ok: true, result: { stray: true } });
    if (scenario.noise) write('VERBOSE: noise between answers\n');
    const ok = (result) => send({ id: req.id, ok: true, result });
    const fail = (code, message) => send({ id: req.id, ok: false, error: { code, message } });
    const m = model();
    const sessions = m.sessions ?? [];
    const find = () => sessions.find((s) => s.id === req.session);
    const now = () => new Date().toISOString();
    const pos = (s) => {
      const t = s.timeline;
      const ran = s.playback.status === 'Playing' ? (Date.now() - Date.parse(t.lastUpdated)) * 10_000 : 0;
      return t.positionTicks + Math.max(0, ran);
    };
    switch (req.type) {
      case 'sessions': return ok({ sessions });
      case 'probe': return ok({ powershell: '5.1.22621.4391', edition: 'Desktop', os: 'Microsoft Windows NT 10.0.22631.0', winrt: true, winrtError: null, sessions: sessions.length, sessionsError: null, volume: m.volume ?? null, volumeError: null, interactive: true, windowsSession: 1 });
      case 'watch': watching = true; lastModel = fs.readFileSync(file, 'utf8'); return ok({ watching: true });
      case 'volume.get': return m.volume ? ok({ level: m.volume.level, muted: m.volume.muted }) : fail('volume.no_device', 'no default playback device');
      case 'volume.set': m.volume.level = req.level; save(m); return ok({ done: true });
      case 'volume.mute': m.volume.muted = req.muted; save(m); return ok({ done: true });
      case 'artwork': {
        const s = find();
        if (!s) return fail('session.not_found', `the media session '${req.session}' has closed`);
        return ok(m.artwork ?? null);
      }
      case 'control':
      case 'seek':
      case 'shuffle':
      case 'repeat': {
        const s = find();
        if (!s) return fail('session.not_found', `the media session '${req.session}' has closed`);
        const t = s.timeline;
        if (req.type === 'control') {
          const p = pos(s);
          const a = req.action;
          if (a === 'play') s.playback.status = 'Playing';
          else if (a === 'pause') s.playback.status = 'Paused';
          else if (a === 'toggle') s.playback.status = s.playback.status === 'Playing' ? 'Paused' : 'Playing';
          else if (a === 'stop') { s.playback.status = 'Stopped'; t.positionTicks = 0; t.lastUpdated = now(); save(m); return ok({ done: true }); }
          else if (a === 'next' || a === 'previous') { s.title = `${s.title} (${a})`; t.positionTicks = 0; t.lastUpdated = now(); save(m); return ok({ done: true }); }
          t.positionTicks = p;
          t.lastUpdated = now();
        } else if (req.type === 'seek') { t.positionTicks = req.ticks; t.lastUpdated = now(); }
        else if (req.type === 'shuffle') s.playback.shuffle = req.on;
        else s.playback.autoRepeat = req.mode;
        save(m);
        return ok({ done: true });
      }
      default: return fail('unknown_request', `unknown request type '${req.type}'`);
    }
  }
}

module.exports = { main };
// Run as `node fake-desktop-tool.cjs TOOL DIR SCRIPT ARGS…` (the shebang line of each fake; the kernel adds the fake's own path).
if (require.main === module) main(process.argv[2], process.argv[3], process.argv.slice(5));
