// Media folders: browse (paging, order, dotfiles, types) on a temp tree, and
// `play file` through the real CLI against a real MPD (checked with mpc) and
// real mpv + mpv-mpris on a private bus (checked with playerctl). Denied:
// escapes and non-playable files, with no absolute path in any message.
import t from 'tap';
import { mkdirSync, writeFileSync, symlinkSync, realpathSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { listFolder, listFolders, resolvePlayable, compareNames, parseMediaRef, isPlayableName } from '../dist/core/media.js';
import { Config } from '../dist/core/config/store.js';
import { tempDir, makeMusic, sh, waitFor } from './helpers/proc.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { startMpd } from './helpers/mpd.js';
import { startSessionBus, startMpv } from './helpers/dbus.js';

/** Write config.json (0600) in a private config dir and load it. */
function configWith(t, tree, extraEnv = {}) {
  const c = cliEnv(t, extraEnv);
  writeFileSync(join(c.configDir, 'config.json'), JSON.stringify(tree), { mode: 0o600 });
  return { ...c, config: Config.load(c.env) };
}

function browseTree(t) {
  const base = realpathSync(tempDir(t, 'mg-media-'));
  const root = join(base, 'music');
  for (const d of ['dirB', 'dirA/inner', '.hdir', 'empty']) mkdirSync(join(root, d), { recursive: true });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'secret.mp3'), 'secret');
  const files = { 'Track 10.mp3': 10, 'Track 2.mp3': 2, 'b.txt': 3, 'A.flac': 4, '9.ogg': 5, '10.ogg': 6, 'Ünïcode.ogg': 7, 'cover.JPG': 8, 'Clip.MKV': 9, '.hidden.mp3': 1 };
  for (const [name, size] of Object.entries(files)) writeFileSync(join(root, name), 'x'.repeat(size));
  symlinkSync(join(root, 'dirA'), join(root, 'link-in'));
  symlinkSync(join(base, 'outside'), join(root, 'link-out'));
  symlinkSync(join(base, 'outside', 'secret.mp3'), join(root, 'file-out.mp3'));
  symlinkSync(join(base, 'nowhere'), join(root, 'dangling.mp3'));
  sh('mkfifo', [join(root, 'a-fifo')]);
  return { base, root };
}

t.test('pure helpers', async (t) => {
  t.same(['Track 10', 'track 2', 'Track 1', 'a', 'B', '10', '9', '09x'].sort(compareNames), ['9', '09x', '10', 'a', 'B', 'Track 1', 'track 2', 'Track 10']);
  t.same(parseMediaRef('music/a/b.mp3'), { folder: 'music', path: 'a/b.mp3' });
  t.same(parseMediaRef('music'), { folder: 'music', path: '' });
  for (const name of ['a.mp3', 'b.FLAC', 'c.ogg', 'd.opus', 'e.m4a', 'f.aac', 'g.wav', 'h.wv', 'i.ape', 'j.mka', 'k.mkv', 'l.mp4', 'm.webm', 'n.avi', 'o.mov']) {
    t.ok(isPlayableName(name), `${name} is playable`);
  }
  for (const name of ['a.txt', 'cover.jpg', 'b.cue', 'c.m3u', 'noext', '.mp3x', 'mp3']) t.notOk(isPlayableName(name), `${name} is not playable`);
});

t.test('browse: order, types, sizes, dotfiles, links, paging', async (t) => {
  const { root } = browseTree(t);
  const { config } = configWith(t, { media: { folders: { music: root, gone: '/nonexistent/mg-test-root' } } });

  t.same(listFolders(config), [{ name: 'gone', available: false }, { name: 'music', available: true }], 'folders by name, roots not shown');

  const l = listFolder(config, 'music', '');
  t.same(l.entries.map((e) => e.name), ['dirA', 'dirB', 'empty', 'link-in', '9.ogg', '10.ogg', 'A.flac', 'b.txt', 'Clip.MKV', 'cover.JPG', 'Track 2.mp3', 'Track 10.mp3', 'Ünïcode.ogg'],
    'directories first, natural order, case-insensitive; dotfiles, FIFOs, outside and dangling links left out');
  t.equal(l.total, 13);
  t.equal(l.nextOffset, null);
  const byName = Object.fromEntries(l.entries.map((e) => [e.name, e]));
  t.same(byName.dirA, { name: 'dirA', path: 'dirA', type: 'dir', size: null, playable: false });
  t.same(byName['link-in'], { name: 'link-in', path: 'link-in', type: 'dir', size: null, playable: false }, 'an inside link is listed as what it points to');
  t.same(byName['Track 2.mp3'], { name: 'Track 2.mp3', path: 'Track 2.mp3', type: 'file', size: 2, playable: true });
  t.same(byName['b.txt'], { name: 'b.txt', path: 'b.txt', type: 'file', size: 3, playable: false });
  t.equal(byName['Clip.MKV'].playable, true, 'extensions are case-insensitive');
  t.equal(byName['cover.JPG'].playable, false);

  const hidden = listFolder(config, 'music', '', { showHidden: true });
  t.same(hidden.entries.map((e) => e.name).slice(0, 2), ['.hdir', 'dirA'], 'dot dirs shown with showHidden');
  t.ok(hidden.entries.some((e) => e.name === '.hidden.mp3'), 'dotfiles shown with showHidden');
  t.equal(hidden.total, 15);

  const p1 = listFolder(config, 'music', '', { offset: 0, limit: 5 });
  const p2 = listFolder(config, 'music', '', { offset: 5, limit: 5 });
  const p3 = listFolder(config, 'music', '', { offset: 10, limit: 5 });
  t.same([p1.nextOffset, p2.nextOffset, p3.nextOffset], [5, 10, null]);
  t.same([...p1.entries, ...p2.entries, ...p3.entries].map((e) => e.name), l.entries.map((e) => e.name), 'pages add up to the whole');
  t.same(listFolder(config, 'music', '', { offset: 50 }).entries, [], 'past the end: empty page');

  const inner = listFolder(config, 'music', 'link-in');
  t.same(inner.entries.map((e) => e.path), ['link-in/inner'], 'entry paths are relative to the folder root');
  t.same(listFolder(config, 'music', 'empty').entries, []);

  // Percent signs in names round-trip through entry.path.
  writeFileSync(join(root, 'dirB', 'My%20Song.mp3'), 'y');
  const pct = listFolder(config, 'music', 'dirB').entries[0];
  t.equal(pct.path, 'dirB/My%2520Song.mp3');
  t.equal(resolvePlayable(config, 'music', pct.path).name, 'My%20Song.mp3', 'the listed path plays the listed file');
});

t.test('browse: denied', async (t) => {
  const { base, root } = browseTree(t);
  const { config } = configWith(t, { media: { folders: { music: root, gone: join(base, 'unmounted') } } });
  const cases = [
    [['nope', ''], 'media.folder_not_found', 2],
    [['../music', ''], 'media.folder_not_found', 2],
    [['music', 'missing'], 'media.not_found', 2],
    [['music', 'b.txt'], 'media.not_a_directory', 2],
    [['music', 'link-out'], 'media.path_outside', 2],
    [['music', '../outside'], 'media.path_invalid', 2],
    [['music', '/etc'], 'media.path_invalid', 2],
    [['gone', ''], 'media.folder_unavailable', 3],
  ];
  for (const [[folder, rel], code, exitCode] of cases) {
    let err;
    try { listFolder(config, folder, rel); } catch (e) { err = e; }
    t.equal(err?.code, code, `${folder}/${rel}: ${code}`);
    t.equal(err?.exitCode, exitCode);
    t.notMatch(err?.message ?? '', base, 'no absolute path in the message');
  }
  t.throws(() => listFolder(config, 'music', '', { limit: 0 }), { exitCode: 2 });
  t.throws(() => listFolder(config, 'music', '', { limit: 1001 }), { exitCode: 2 });
  t.throws(() => listFolder(config, 'music', '', { offset: -1 }), { exitCode: 2 });
});

t.test('resolvePlayable: allowed and denied', async (t) => {
  const { base, root } = browseTree(t);
  const { config } = configWith(t, { media: { folders: { music: root } } });
  t.same(resolvePlayable(config, 'music', 'Track 2.mp3'), { folder: 'music', path: 'Track 2.mp3', name: 'Track 2.mp3', absolute: join(root, 'Track 2.mp3') });
  t.equal(resolvePlayable(config, 'music', 'link-in/../Track 2.mp3'.replace('link-in/../', '')).absolute, join(root, 'Track 2.mp3'));
  const denied = [
    ['b.txt', 'media.not_playable', /not an audio or video file/],
    ['dirA', 'media.not_playable', /is a directory/],
    ['', 'media.not_playable', /is a directory/],
    ['a-fifo', 'media.not_playable', /not a regular file/],
    ['missing.mp3', 'media.not_found', /nothing at/],
    ['file-out.mp3', 'media.path_outside', /outside the folder/],
    ['link-out/secret.mp3', 'media.path_outside', /outside the folder/],
    ['dangling.mp3', 'media.path_outside', /broken symbolic link/],
    ['../outside/secret.mp3', 'media.path_invalid', /'\.\.'/],
  ];
  for (const [rel, code, why] of denied) {
    let err;
    try { resolvePlayable(config, 'music', rel); } catch (e) { err = e; }
    t.equal(err?.code, code, `${rel}: ${code}`);
    t.match(err?.message ?? '', why);
    t.notMatch(err?.message ?? '', base);
  }
});

t.test('play browse through the CLI: same order whatever the locale, --json, --all, paging', async (t) => {
  const { root } = browseTree(t);
  const { env } = configWith(t, { media: { folders: { music: root } } });
  const a = await runCli(['play', 'browse', 'music'], { env: { ...env, LANG: 'C', LC_ALL: 'C' } });
  const b = await runCli(['play', 'browse', 'music'], { env: { ...env, LANG: 'sv_SE.UTF-8', LC_ALL: 'tr_TR.UTF-8' } });
  t.equal(a.code, 0, a.stderr);
  t.equal(a.stdout, b.stdout, 'locale-independent order');
  t.match(a.stdout, /^NAME\s+SIZE\s+PLAYABLE\ndirA\/\n/);
  t.match(a.stdout, /Track 2\.mp3\s+2\s+playable/);
  const j = await runCli(['play', 'browse', 'music', '--json', '--all', '--limit', '3', '--offset', '1'], { env });
  t.equal(j.code, 0, j.stderr);
  const l = JSON.parse(j.stdout);
  t.same(l.entries.map((e) => e.name), ['dirA', 'dirB', 'empty']);
  t.same([l.total, l.offset, l.limit, l.nextOffset], [15, 1, 3, 4]);
  const f = await runCli(['play', 'browse', '--json'], { env });
  t.same(JSON.parse(f.stdout), { folders: [{ name: 'music', available: true }] });
  const bad = await runCli(['play', 'browse', 'music', '--limit', '0'], { env });
  t.equal(bad.code, 2);
  const unknown = await runCli(['play', 'browse', 'nope'], { env });
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /no media folder named 'nope'[\s\S]*folders are: music/);
});

/** A media folder that is also MPD's music directory, with a link out and a text file. */
function mpdFolder(t) {
  const base = realpathSync(tempDir(t, 'mg-mediampd-'));
  const root = makeMusic(join(base, 'music'), 60);
  mkdirSync(join(root, 'Sub Dir'));
  copyFileSync(join(root, 'b.flac'), join(root, 'Sub Dir', 'b copy.flac'));
  writeFileSync(join(root, 'notes.txt'), 'not music');
  mkdirSync(join(base, 'outside'));
  copyFileSync(join(root, 'c.mp3'), join(base, 'outside', 'secret.mp3'));
  symlinkSync(join(base, 'outside'), join(root, 'out'));
  symlinkSync(join(base, 'outside', 'secret.mp3'), join(root, 'secret.mp3'));
  return { base, root };
}

t.test('play file on a real MPD (unix socket: MPD names its music directory)', async (t) => {
  const { base, root } = mpdFolder(t);
  const mpd = await startMpd(t, { musicDir: root });
  const { env } = configWith(t, { media: { folders: { music: root } } }, { MPD_HOST: mpd.socketPath });
  const mg = (...args) => runCli(args, { env });

  let r = await mg('play', 'file', 'music/Sub Dir/b copy.flac', '--player', 'mpd', '--json');
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { ok: true, action: 'file', player: 'mpd', folder: 'music', path: 'Sub Dir/b copy.flac', name: 'b copy.flac' });
  t.equal(mpd.mpc('current', '-f', '%file%'), 'Sub Dir/b copy.flac', 'queued by its path relative to the music directory, and playing');
  t.match(mpd.mpc('status'), /^\[playing\]/m);

  r = await mg('play', 'file', 'music/a.ogg');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpd.mpc('current'), 'Probe - SineA', 'mpc current shows the new file');

  // A file MPD's database does not know yet.
  copyFileSync(join(root, 'c.mp3'), join(root, 'fresh.mp3'));
  r = await mg('play', 'file', 'music/fresh.mp3', '--player', 'mpd');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpd.mpc('current', '-f', '%file%'), 'fresh.mp3');

  // Denied: nothing reaches MPD, exit 2, no absolute path in stderr.
  const before = mpd.mpc('playlist', '-f', '%file%');
  for (const [ref, why] of [
    ['music/secret.mp3', /outside the folder/],
    ['music/out/secret.mp3', /outside the folder/],
    ['music/../outside/secret.mp3', /'\.\.'/],
    ['music/%2e%2e/outside/secret.mp3', /'\.\.'/],
    [`music/${join(base, 'outside', 'secret.mp3')}`, /is absolute/],
    ['music/notes.txt', /not an audio or video file/],
    ['music/Sub Dir', /is a directory/],
    ['music', /names a folder, not a file/],
    ['nope/a.ogg', /no media folder named 'nope'/],
  ]) {
    r = await mg('play', 'file', ref, '--player', 'mpd');
    t.equal(r.code, 2, `${ref}: exit 2`);
    t.match(r.stderr, why, `${ref}: says why`);
    t.notMatch(r.stderr, base, `${ref}: no absolute path in stderr`);
    t.notMatch(r.stderr, '/tmp', `${ref}: no /tmp path either`);
  }
  t.equal(mpd.mpc('playlist', '-f', '%file%'), before, 'the queue did not change');
  t.equal(mpd.mpc('current', '-f', '%file%'), 'fresh.mp3');
});

t.test('play file on a real MPD over TCP: mpd.musicDirectory from config', async (t) => {
  const { root } = mpdFolder(t);
  const mpd = await startMpd(t, { musicDir: root });
  const tcp = { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) };

  // Without mpd.musicDirectory, MPD over TCP cannot be told the file: a config error that says what to set.
  const noDir = configWith(t, { media: { folders: { music: root } } }, tcp);
  let r = await runCli(['play', 'file', 'music/b.flac'], { env: noDir.env });
  t.equal(r.code, 5, r.stderr);
  t.match(r.stderr, /mpd\.musicDirectory/);

  const { env } = configWith(t, { media: { folders: { music: root } }, mpd: { musicDirectory: root } }, tcp);
  r = await runCli(['play', 'file', 'music/b.flac'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(mpd.mpc('current'), 'SineB');
  // Not in MPD's database yet: scanned first, then played.
  mkdirSync(join(root, 'new'));
  copyFileSync(join(root, 'a.ogg'), join(root, 'new', 'late.ogg'));
  r = await runCli(['play', 'file', 'music/new/late.ogg'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(mpd.mpc('current', '-f', '%file%'), 'new/late.ogg');

  // A media folder outside MPD's music directory: over TCP MPD cannot open it.
  const other = realpathSync(tempDir(t, 'mg-other-'));
  copyFileSync(join(root, 'a.ogg'), join(other, 'x.ogg'));
  const o = configWith(t, { media: { folders: { other } }, mpd: { musicDirectory: root } }, tcp);
  r = await runCli(['play', 'file', 'other/x.ogg'], { env: o.env });
  t.equal(r.code, 3, r.stderr);
  t.match(r.stderr, /only over its unix socket/);
  t.notMatch(r.stderr, other);
});

t.test('play file on a real MPD (unix socket) from a root below and one outside MPD\'s music directory; undecodable files', async (t) => {
  const { base, root } = mpdFolder(t);
  const mpd = await startMpd(t, { musicDir: root });
  // `sub` is a subdirectory of music_directory: MPD must be sent `Sub Dir/…`, not the path relative to the media root.
  const other = realpathSync(tempDir(t, 'mg-outside-mpd-'));
  copyFileSync(join(root, 'a.ogg'), join(other, 'x.ogg'));
  const garbage = Buffer.alloc(20000, 0x5a);
  writeFileSync(join(root, 'Sub Dir', 'broken.mp3'), garbage);
  writeFileSync(join(other, 'broken.mp3'), garbage);
  const { env } = configWith(t, { media: { folders: { sub: join(root, 'Sub Dir'), other } } }, { MPD_HOST: mpd.socketPath });
  const mg = (...args) => runCli(args, { env });

  let r = await mg('play', 'file', 'sub/b copy.flac', '--player', 'mpd', '--json');
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { folder: 'sub', path: 'b copy.flac' }, 'the answer names the media folder and its relative path');
  t.equal(mpd.mpc('current', '-f', '%file%'), 'Sub Dir/b copy.flac', 'MPD got the path relative to its music directory');
  t.match(mpd.mpc('playlist', '-f', '%file%'), /^Sub Dir\/b copy\.flac$/m, 'and it is in the queue under that path');
  t.match(mpd.mpc('status'), /^\[playing\]/m);

  // Outside music_directory, over the unix socket: MPD is given the absolute path (allowed for local clients).
  r = await mg('play', 'file', 'other/x.ogg', '--player', 'mpd');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpd.mpc('current', '-f', '%file%'), join(other, 'x.ogg'), 'queued by its absolute path');
  t.equal(mpd.mpc('current'), 'Probe - SineA');
  t.match(mpd.mpc('playlist', '-f', '%file%'), new RegExp(`^${join(other, 'x.ogg').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));

  // An allowed name MPD cannot decode, inside and outside music_directory: media.not_playable, exit 2, no path.
  for (const ref of ['sub/broken.mp3', 'other/broken.mp3']) {
    const before = mpd.mpc('playlist', '-f', '%file%');
    r = await mg('play', 'file', ref, '--player', 'mpd', '--json');
    t.equal(r.code, 2, `${ref}: exit 2 (${r.stderr.trim()})`);
    const err = JSON.parse(r.stderr).error;
    t.equal(err.code, 'media.not_playable', `${ref}: media.not_playable, not mpd.ack`);
    t.match(err.message, /MPD cannot play this file/);
    t.notMatch(r.stderr, base, `${ref}: no absolute path`);
    t.notMatch(r.stderr, other);
    t.notMatch(r.stderr, '/tmp');
    t.equal(mpd.mpc('playlist', '-f', '%file%'), before, `${ref}: the queue did not change`);
  }

  // MPD errors name the socket by its file name, never its absolute path.
  const gone = configWith(t, { media: { folders: { sub: join(root, 'Sub Dir') } } }, { MPD_HOST: join(base, 'no-such-dir', 'mpd.sock') });
  r = await runCli(['play', 'status', '--player', 'mpd'], { env: gone.env });
  t.equal(r.code, 3, r.stderr);
  t.match(r.stderr, /mpd\.sock \(unix socket\)/, 'the socket by its file name');
  t.notMatch(r.stderr, base, 'not by its absolute path');
  t.notMatch(r.stderr, '/tmp');
});

t.test('play file on mpv over MPRIS (OpenUri with a file:// URI)', async (t) => {
  const { base, root } = mpdFolder(t);
  const bus = await startSessionBus(t);
  const mpv = await startMpv(t, bus, [join(root, 'a.ogg')]);
  const { env } = configWith(t, { media: { folders: { music: root } } }, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_PORT: '1' });
  const mg = (...args) => runCli(args, { env });

  let r = await mg('play', 'file', 'music/Sub Dir/b copy.flac', '--player', mpv.name, '--json');
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).player, mpv.name);
  const url = pathToFileURL(join(root, 'Sub Dir', 'b copy.flac')).href;
  await waitFor(() => mpv.playerctl('metadata', 'xesam:url') === url, { timeoutMs: 5000, what: 'mpv to open the file' });
  t.equal(mpv.playerctl('metadata', 'xesam:url'), url, 'playerctl shows the file:// URL');
  await waitFor(() => mpv.playerctl('metadata', 'xesam:title') === 'SineB', { timeoutMs: 5000, what: 'the title' });
  t.equal(mpv.playerctl('status'), 'Playing');

  // Paused first: a new file still plays.
  mpv.playerctl('pause');
  await waitFor(() => mpv.playerctl('status') === 'Paused', { what: 'paused' });
  r = await mg('play', 'file', 'music/c.mp3', '--player', mpv.name);
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => mpv.playerctl('metadata', 'xesam:url') === pathToFileURL(join(root, 'c.mp3')).href, { timeoutMs: 5000, what: 'c.mp3' });
  await waitFor(() => mpv.playerctl('status') === 'Playing', { timeoutMs: 5000, what: 'playing after a paused player opened a file' });

  for (const ref of ['music/secret.mp3', 'music/out/secret.mp3', 'music/notes.txt']) {
    r = await mg('play', 'file', ref, '--player', mpv.name);
    t.equal(r.code, 2, `${ref}: refused`);
    t.notMatch(r.stderr, base);
  }
  t.equal(mpv.playerctl('metadata', 'xesam:url'), pathToFileURL(join(root, 'c.mp3')).href, 'mpv still plays the allowed file');
});
