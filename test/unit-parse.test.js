// Pure parsers: seek positions, volume requests, argv normalisation, templates, player choice.
import t from 'tap';
import { parseSeek, percentToSeconds } from '../dist/core/players/seek.js';
import { parseVolumeRequest, applyChange } from '../dist/core/volume/request.js';
import { normalizeArgv } from '../dist/cli/argv.js';
import { compileTemplate, formatClock, escapeValue } from '../dist/core/format.js';
import { pickActive, nameMatches } from '../dist/core/players/select.js';

t.test('seek: allowed forms', async (t) => {
  t.same(parseSeek('90'), { kind: 'absolute', seconds: 90 });
  t.same(parseSeek('1:30'), { kind: 'absolute', seconds: 90 });
  t.same(parseSeek('1:02:03'), { kind: 'absolute', seconds: 3723 });
  t.same(parseSeek('12.5'), { kind: 'absolute', seconds: 12.5 });
  t.same(parseSeek('+10'), { kind: 'relative', seconds: 10 });
  t.same(parseSeek('-10'), { kind: 'relative', seconds: -10 });
  t.same(parseSeek('-1:00'), { kind: 'relative', seconds: -60 });
  t.same(parseSeek('50%'), { kind: 'percent', percent: 50 });
  t.equal(percentToSeconds(50, 200), 100);
});

t.test('seek: denied forms', async (t) => {
  for (const bad of ['', 'abc', '1:75', '1:2:3:4', '--5', '+-5', '10s', '150%', '-50%', 'NaN', 'Infinity', '1e3', ' : ']) {
    t.throws(() => parseSeek(bad), { exitCode: 2 }, `'${bad}' is refused`);
  }
  t.throws(() => percentToSeconds(50, null), { exitCode: 2 }, 'percent without a duration');
});

t.test('volume requests: allowed and denied', async (t) => {
  t.same(parseVolumeRequest(undefined), { kind: 'get' });
  t.same(parseVolumeRequest('0'), { kind: 'set', level: 0 });
  t.same(parseVolumeRequest('100'), { kind: 'set', level: 100 });
  t.same(parseVolumeRequest('40%'), { kind: 'set', level: 40 });
  t.same(parseVolumeRequest('+5'), { kind: 'change', delta: 5 });
  t.same(parseVolumeRequest('-5'), { kind: 'change', delta: -5 });
  t.same(parseVolumeRequest('toggle-mute'), { kind: 'toggle-mute' });
  for (const bad of ['150', '101', '-101', 'abc', '4.5', '', 'MUTE', '1e2', '0x10']) {
    t.throws(() => parseVolumeRequest(bad), { exitCode: 2 }, `'${bad}' is refused`);
  }
  t.equal(applyChange({ level: 98, muted: false }, 5), 100);
  t.equal(applyChange({ level: 3, muted: false }, -5), 0);
  t.equal(applyChange({ level: 120, muted: false }, 5), 120, 'a boosted level is kept by +N, not lowered to 100');
  t.equal(applyChange({ level: 100, muted: false }, 5), 100);
  t.equal(applyChange({ level: 120, muted: false }, -5), 115, '-N lowers from the real level');
});

t.test('argv: a global --remote before the command moves behind it', async (t) => {
  t.same(normalizeArgv(['--remote', 'home', 'pause']), ['pause', '--remote', 'home']);
  t.same(normalizeArgv(['--remote=home', 'token', 'list', '--json']), ['token', 'list', '--json', '--remote=home']);
  t.same(normalizeArgv(['-r', 'home', 'status']), ['status', '-r', 'home']);
  t.same(normalizeArgv(['--remote', 'home', 'volume', '-5']), ['volume', '--remote', 'home', '--', '-5'], 'with a negative number');
  t.same(normalizeArgv(['--remote', 'home', 'play', 'seek', '--', '-5']), ['play', 'seek', '--remote', 'home', '--', '-5'], 'before an existing --');
  t.same(normalizeArgv(['pause', '--remote', 'home']), ['pause', '--remote', 'home'], 'after the command: untouched');
  t.same(normalizeArgv(['--remote', 'home']), ['--remote', 'home'], 'no command: left for oclif to report');
  t.same(normalizeArgv(['--remote', '--json', 'pause']), ['--remote', '--json', 'pause'], 'no value: left for oclif to report');
  t.same(normalizeArgv(['--json', '--remote', 'home', 'pause']), ['--json', '--remote', 'home', 'pause'], 'only a leading --remote moves');
  t.same(normalizeArgv(['play', '--remote', 'home', 'pause']), ['play', 'pause', '--remote', 'home'], 'between the command words');
  t.same(normalizeArgv(['play', '-r', 'home', 'seek', '-10']), ['play', 'seek', '-r', 'home', '--', '-10'], 'between the words, with a negative number');
  t.same(normalizeArgv(['play', '--remote=home', 'file', 'music/a.ogg']), ['play', 'file', 'music/a.ogg', '--remote=home']);
  t.same(normalizeArgv(['status', '--format', '-r']), ['status', '--format', '-r'], 'after another flag it may be its value: untouched');
  t.same(normalizeArgv(['play', '--remote', 'home']), ['play', '--remote', 'home'], 'nothing after it: untouched');
});

t.test('argv: negative numbers reach volume and seek as arguments', async (t) => {
  t.same(normalizeArgv(['volume', '-5']), ['volume', '--', '-5']);
  t.same(normalizeArgv(['volume', '-5', '--json']), ['volume', '--json', '--', '-5']);
  t.same(normalizeArgv(['play', 'seek', '-1:30']), ['play', 'seek', '--', '-1:30']);
  t.same(normalizeArgv(['volume', '+5']), ['volume', '+5']);
  t.same(normalizeArgv(['status', '-5']), ['status', '-5'], 'other commands untouched');
  t.same(normalizeArgv(['volume', '--', '-5']), ['volume', '--', '-5'], 'already separated');
});

const state = {
  player: 'mpv', status: 'playing', title: 'A "quoted"\ntitle\u001b[31m', artist: 'Probe', album: null,
  duration: 3725, position: 65.4, positionUpdatedAt: null, volume: 50, shuffle: false, repeat: 'off', artUrl: null,
  capabilities: {},
};

t.test('templates', async (t) => {
  t.equal(formatClock(65.4), '1:05');
  t.equal(formatClock(3725), '1:02:05');
  t.equal(formatClock(null), '');
  t.equal(compileTemplate('{{artist}} [{{duration(position)}}/{{duration(duration)}}]')(state, 'plain'), 'Probe [1:05/1:02:05]');
  t.equal(compileTemplate('{{uc(status)}} {{lc(artist)}} {{default(album, "none")}}')(state, 'plain'), 'PLAYING probe none');
  t.equal(compileTemplate('{{title}}')(state, 'plain'), 'A "quoted" title [31m', 'control characters from metadata cannot reach the terminal');
  const json = compileTemplate('{"t":"{{title}}","a":{{json(album)}},"v":{{json(volume)}}}')(state, 'json');
  t.same(JSON.parse(json), { t: state.title, a: null, v: 50 }, 'json mode keeps a template JSON-valid');
  t.equal(escapeValue('a\\b', 'json'), 'a\\\\b');
  for (const bad of ['{{nope}}', '{{duration()}}', '{{shout(title)}}', '{{default(title)}}']) {
    t.throws(() => compileTemplate(bad), undefined, `${bad} is refused before any output`);
  }
});

t.test('player choice: most recently active', async (t) => {
  const s = (player, status) => ({ player, status });
  t.equal(pickActive([s('mpd', 'paused'), s('mpv', 'playing')]).player, 'mpv', 'playing wins');
  t.equal(pickActive([s('mpd', 'paused'), s('mpv', 'paused')], 'mpv').player, 'mpv', 'last active breaks ties');
  t.equal(pickActive([s('mpd', 'paused'), s('mpv', 'paused')]).player, 'mpd', 'then listing order');
  t.equal(pickActive([s('mpd', 'stopped'), s('mpv', 'paused')], 'mpd').player, 'mpv', 'status beats memory');
  t.equal(pickActive([]), undefined);
  t.ok(nameMatches('vlc', 'vlc.instance42'));
  t.notOk(nameMatches('vlc', 'vlcx'));
  t.notOk(nameMatches('mp', 'mpd'));
});
