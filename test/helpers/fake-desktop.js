// Fake macOS and Windows tools first on PATH, for the desktop backends'
// tests on Linux: `media-control`, `osascript` and `powershell.exe` (Node
// scripts, see fake-desktop-tool.cjs) sharing one model of the desktop in a
// temp dir. `env` runs mediagate with the backends of `platform` against them.
import { chmodSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './proc.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const IMPL = join(HERE, 'fake-desktop-tool.cjs');
export const FIXTURES = join(HERE, '..', 'fixtures', 'desktop');

export function fixture(name) {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
}

/** The desktop the fakes start with: one Spotify track playing (macOS), Music playing (AppleScript), one Spotify session (Windows). */
export function defaultModel() {
  const np = JSON.parse(fixture('media-control-get.json').stdout);
  const now = Date.now();
  np.timestampEpochMicros = now * 1000;
  const second = { title: 'Getting Older', artist: 'Billie Eilish', album: 'Happier Than Ever', durationMicros: 244000000 };
  const spotify = structuredClone(fixture('windows-sessions.json').answer.result.sessions[0]);
  spotify.timeline.lastUpdated = new Date(now).toISOString();
  return {
    nowPlaying: np,
    tracks: [{ title: np.title, artist: np.artist, album: np.album, durationMicros: np.durationMicros }, second],
    artwork: { mimeType: 'image/png', base64: PNG_1PX },
    apps: {
      Music: { state: 'playing', name: 'So What', artist: 'Miles Davis', album: 'Kind of Blue', duration: '562.373', position: '12.5', shuffle: false, repeat: 'off', volume: 80 },
      Spotify: null,
    },
    volume: { level: 40, muted: false },
    sessions: [spotify],
  };
}

/** A 1×1 PNG. */
export const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/**
 * Install the fakes for test `t`. Returns {bin, dir, env(platform, extra),
 * calls(tool), model(), setModel(fn), scenario(obj)}.
 */
export function fakeDesktop(t, { model = defaultModel(), scenario = {} } = {}) {
  const dir = tempDir(t, 'mg-fake-desktop-');
  const bin = join(dir, 'bin');
  writeFileSync(join(dir, 'model.json'), JSON.stringify(model, null, 1));
  writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
  writeFileSync(join(dir, 'calls.jsonl'), '');
  const { mkdirSync } = process.getBuiltinModule('node:fs');
  mkdirSync(bin);
  for (const tool of ['media-control', 'osascript', 'powershell.exe']) {
    const file = join(bin, tool);
    // The implementation is Node's main module (a .cjs), not this file: a name such as
    // powershell.exe would trip loader hooks (tap's coverage hooks reach every child).
    writeFileSync(file, `#!/usr/bin/env -S ${process.execPath} ${IMPL} ${tool} ${dir}\n`);
    chmodSync(file, 0o755);
  }
  const read = () => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  return {
    bin,
    dir,
    /** Environment additions: the fakes first on PATH, the backends of `platform`. */
    env(platform, base = process.env) {
      return { PATH: `${bin}:${base.PATH ?? ''}`, MEDIAGATE_PLATFORM: platform };
    },
    /** Every run of `tool` so far: [{argv, env, pid, at}]. */
    calls(tool) {
      return readFileSync(join(dir, 'calls.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((c) => !tool || c.tool === tool);
    },
    model: read,
    setModel(fn) {
      const m = read();
      const next = fn(m) ?? m;
      writeFileSync(join(dir, 'model.json'), JSON.stringify(next, null, 1));
    },
    scenario(obj) {
      writeFileSync(join(dir, 'scenario.json'), JSON.stringify(obj));
    },
    /** How often the helper / the stream was started. */
    starts(what) {
      const f = join(dir, what === 'stream' ? 'stream-starts.json' : 'helper-starts.json');
      return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : 0;
    },
  };
}
