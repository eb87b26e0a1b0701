// The differential test of the playerctl mode: a table of playerctl
// invocations and templates — from playerctl's man page and from real
// status-bar configs (waybar custom/media modules, polybar and eww scripts,
// tmux lines) — run through the real playerctl 2.4.1 and through
// `mediagate playerctl` against the same players on a private session bus:
// mpv + mpv-mpris, and fake MPRIS players carrying exact, typed metadata.
// stdout, stderr and the exit code must be the same byte for byte; control
// commands must also leave the players in the same state; --follow must
// print the same lines for the same pause/play/next sequence.
import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { startSessionBus, startMpv, startFakePlayer } from './helpers/dbus.js';
import { cliEnv, BIN } from './helpers/cli.js';
import { makeMusic, tempDir } from './helpers/proc.js';
import { differences, follower, mediagatePlayerctl, playerctl, shown } from './helpers/playerctl-diff.js';

// ~300 tool runs, each a process: well past the default file limit on a loaded 2-core machine.
t.setTimeout(480000);
const bus = await startSessionBus(t);
const dir = tempDir(t, 'mg-pctl-');
const music = makeMusic(join(dir, 'music'), 60);
const track = join(music, 'c.mp3');
const mpv = await startMpv(t, bus, [join(music, 'a.ogg'), join(music, 'b.flac')]);

const RICH = {
  'mpris:trackid': ['o', '/org/fake/track/1'],
  'xesam:title': ['s', 'A <Title> & "more"'],
  'xesam:artist': ['as', ['Art One', 'Art Two']],
  'xesam:album': ['s', 'An Album'],
  'mpris:length': ['x', '3723000000'],
  'mpris:artUrl': ['s', 'file:///tmp/cover.png'],
  'xesam:trackNumber': ['i', 7],
  'xesam:useCount': ['i', -3],
  'xesam:autoRating': ['d', 0.75],
  'xesam:genre': ['as', ['Rock']],
  'xesam:url': ['s', 'https://example.org/x.mp3'],
  'xesam:asText': ['s', 'line1\nline2'],
  'fake:flag': ['b', true],
  'fake:huge': ['t', '18446744073709551615'],
  'fake:wrapped': ['v', ['s', 'inner']],
};
const ODD = {
  'mpris:trackid': ['o', '/org/fake/track/3'],
  'xesam:title': ['s', ''],
  'xesam:artist': ['as', ['']],
  'xesam:album': ['s', 'Ω Ünïcödé 日本語 album name that is rather long indeed'],
  'xesam:genre': ['as', []],
  'xesam:comment': ['as', ['a', '', 'b']],
  'xesam:userRating': ['d', 1],
  'xesam:trackNumber': ['x', 3],
  'fake:zero': ['i', 0],
  'fake:false': ['b', false],
  'a-very-long-key-name-that-exceeds:twenty-five': ['s', 'v'],
  'fake:byte': ['y', 7],
  'fake:tiny': ['d', 2.5e-7],
  'fake:paths': ['ao', ['/a', '/b']],
};
const FAKE_PROPS = { PlaybackStatus: 'Paused', Volume: 0.5, Position: 83000000, LoopStatus: 'Track', Shuffle: true, CanSeek: true };
const fake = await startFakePlayer(t, bus, { name: 'fake', props: FAKE_PROPS, metadata: RICH, writable: true });
await startFakePlayer(t, bus, { name: 'averyverylongplayername', props: { Volume: 0.25, Position: 5000000, LoopStatus: 'None' }, metadata: ODD });
await startFakePlayer(t, bus, { name: 'bare', props: { PlaybackStatus: null, Volume: null, Position: null, LoopStatus: null, Shuffle: null } });
await startFakePlayer(t, bus, { name: 'locked', props: { CanControl: false, CanPlay: false, CanPause: false, CanGoNext: false, CanGoPrevious: false }, metadata: { 'xesam:title': ['s', 'Locked'] } });
await startFakePlayer(t, bus, { name: 'multi.instance42', metadata: { 'xesam:title': ['s', 'Instance 42'] } });

// mpv paused at a known position, so its position prints the same for both tools.
await playerctl(['-p', mpv.name, 'pause'], { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: bus.address });
await playerctl(['-p', mpv.name, 'position', '2'], { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: bus.address });

const { env: mgEnv, base } = cliEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_HOST: join(dir, 'no-mpd.sock') });
const pcEnv = { PATH: process.env.PATH, HOME: join(base, 'home'), LANG: 'C.UTF-8', DBUS_SESSION_BUS_ADDRESS: bus.address };
writeFileSync(join(dir, 'keep'), '');

const fmt = (template, player = 'fake', command = 'metadata') => ['-p', player, command, '--format', template];

// ---- the table: [what it is, argv]
const TEMPLATES = [
  // playerctl(1) EXAMPLES and the waybar/polybar/eww/tmux configs people use
  ['man page example', fmt('{{playerName}}: {{lc(status)}} {{duration(position)}}|{{duration(mpris:length)}}')],
  ['polybar/eww: artist - title', fmt('{{ artist }} - {{ title }}')],
  ['waybar custom/media JSON', fmt('{"text": "{{artist}} - {{markup_escape(title)}}", "tooltip": "{{playerName}} : {{markup_escape(title)}}", "alt": "{{status}}", "class": "{{status}}"}')],
  ['waybar JSON with album tooltip', fmt('{"text": "{{artist}} ~ {{markup_escape(title)}}", "tooltip": "{{album}}", "alt": "{{status}}", "class": "{{status}}"}')],
  ['waybar emoji status', fmt('{"text": "{{emoji(status)}} {{title}}", "tooltip": "{{playerName}}: {{title}} — {{artist}}", "class": "{{status}}"}')],
  ['tmux line', fmt('{{ status }}: {{ artist }} - {{ title }} ({{ duration(position) }}/{{ duration(mpris:length) }})')],
  ['widget field list', fmt('{{playerInstance}}\t{{playerName}}\t{{status}}\t{{title}}\t{{artist}}\t{{album}}\t{{mpris:artUrl}}\t{{xesam:url}}\t{{mpris:length}}\t{{position}}')],
  ['eww script separators', fmt('{{status}}␞{{artist}}␞{{title}}␞{{mpris:artUrl}}')],
  ['remaining time', fmt('-{{duration(mpris:length - position)}}')],
  ['percent played', fmt('{{position / mpris:length * 100}}%')],
  ['volume percent', fmt('{{volume * 100}}% {{emoji(volume)}}')],
  ['seconds', fmt('{{position / 1000000}} of {{mpris:length / 1000000}}')],
  ['integer division', fmt('{{mpris:length - position}} {{mpris:length / 60}}')],
  ['truncated title', fmt('{{trunc(title, 5)}}|{{trunc(title, 100)}}|{{trunc(title, 0)}}|{{trunc(title, 2.7)}}|{{trunc(artist, 5)}}')],
  ['defaults', fmt('{{default(xesam:nope, "none")}}|{{default("", "x")}}|{{default(title, artist)}}|{{default(nope, nope)}}')],
  ['case', fmt('{{uc(title)}}|{{lc(artist)}}|{{uc(lc(title))}}|{{uc(shuffle)}}|{{lc(mpris:trackid)}}')],
  ['markup', fmt('{{markup_escape(title)}}|{{markup_escape("it\'s")}}|{{markup_escape(mpris:length)}}')],
  ['emoji', fmt('{{emoji(status)}}|{{emoji(volume)}}|{{emoji(title)}}|{{emoji(nope)}}|{{emoji(loop)}}')],
  ['arithmetic', fmt('{{2*(3+4)}}|{{8+-+--++-4}}|{{ -(10 + 12 * -2) }}|{{(14 - 2 * 3) * (14 * -2 - 6) + -(4 - 2) * 5}}')],
  ['doubles', fmt('{{10}}|{{10/3}}|{{0.1}}|{{0.1+0.2}}|{{ -0 }}|{{1.}}|{{.5}}|{{123456789.123}}|{{100000000000000000000}}')],
  ['types', fmt("{{mpris:trackid}}|{{fake:wrapped}}|{{fake:flag}}|{{fake:huge}}|{{fake:huge + 1}}|{{duration(fake:huge)}}|{{xesam:useCount}}|{{xesam:autoRating * 2}}")],
  ['durations', fmt('{{duration(volume)}}|{{duration(3723000000.9)}}|{{duration(-5000000)}}|{{duration(-65000000)}}|{{duration(nope)}}')],
  ['unknown variable is empty', fmt('[{{nope}}][{{xesam:nope}}]')],
  ['literal text and braces', fmt('a}}b{c')],
  ['spaces inside', fmt('@{{ uc( "hi" ) }} - {{uc( lc( "HO"  ) ) }} . {{lc( uc(  title ) )   }}@')],
  ['empty format', fmt('')],
  ['odd metadata: types', fmt('{{xesam:comment}}|{{xesam:userRating}}|{{xesam:trackNumber + 1}}|{{fake:byte}}|{{fake:tiny}}|{{fake:paths}}|{{lc(fake:paths)}}', 'averyverylongplayername')],
  ['odd metadata: empty values', fmt('[{{title}}][{{artist}}][{{xesam:genre}}]{{default(title, "T")}}|{{default(artist, "A")}}|{{default(xesam:genre, "G")}}|{{default(fake:zero, "Z")}}|{{default(fake:false, "F")}}', 'averyverylongplayername')],
  ['odd metadata: unicode', fmt('{{trunc(xesam:album, 10)}}|{{uc(xesam:album)}}', 'averyverylongplayername')],
  ['int64 by int64', fmt('{{xesam:trackNumber / xesam:trackNumber}}|{{position / xesam:trackNumber}}|{{-xesam:trackNumber}}|{{xesam:trackNumber - position}}', 'averyverylongplayername')],
  ['mpv: the usual line', fmt('{{artist}} - {{title}} [{{duration(position)}}/{{duration(mpris:length)}}] {{status}} {{volume}}', 'mpv')],
  ['mpv: url and id', fmt('{{xesam:url}} {{mpris:trackid}} {{playerName}} {{playerInstance}}', 'mpv')],
  // errors, word for word
  ['error: division by zero', fmt('{{1/0}}')],
  ['error: int32 arithmetic', fmt('{{xesam:trackNumber + 1}}')],
  ['error: no string concatenation', fmt('{{"a" + "b"}}')],
  ['error: unset operand', fmt('{{nope + 1}}')],
  ['error: unary minus of text', fmt('{{-title}}')],
  ['error: int64 product', fmt('{{position * xesam:trackNumber}}', 'averyverylongplayername')],
  ['error: trunc length', fmt('{{trunc(title, "3")}}')],
  ['error: emoji of a literal', fmt('{{emoji("x")}}')],
  ['error: duration of text', fmt('{{duration(title)}}')],
  ['error: duration arity', fmt('{{duration(position, 1)}}')],
  ['error: unknown function', fmt('{{nofn(title)}}')],
  ['error: bad number', fmt('{{1.2.3}}')],
  ['error: unclosed paren', fmt('{{(1}}')],
  ['error: empty expression', fmt('{{ }}')],
  ['error: unclosed template', fmt('{{title')],
  ['error: string escapes', fmt('{{"a\\"b"}}')],
  ['error: space before paren', fmt('{{ lc ( title ) }}')],
  ['error: no argument', fmt('{{lc()}}')],
  ['error: too long', fmt('x'.repeat(1028))],
];

const INVOCATIONS = [
  ['list', ['-l']],
  ['list one', ['-p', 'fake', '-l']],
  ['list ignoring', ['-i', 'fake,multi', '-l']],
  ['list in -p order', ['-p', 'mpv,%any,fake', '-l']],
  ['list nothing', ['-p', 'nope', '-l']],
  ['status of the first player', ['status']],
  ['status', ['-p', 'fake', 'status']],
  ['status of all', ['-a', 'status']],
  ['status of all, formatted', ['-a', '-f', '{{playerName}} {{status}} [{{title}}]', 'status']],
  ['-p order wins', ['-p', 'multi,fake', '-a', '-f', '{{playerInstance}}', 'status']],
  ['%any first', ['-p', '%any,fake', '-a', '-f', '{{playerInstance}}', 'status']],
  ['instance match', ['-p', 'multi', '-f', '{{playerName}}|{{playerInstance}}', 'status']],
  ['partial name does not match', ['-p', 'mul', 'status']],
  ['ignore', ['-i', 'averyverylongplayername,bare', '-f', '{{playerInstance}}', 'status']],
  ['first that can: -p list', ['-p', 'bare,fake', 'status']],
  ['position', ['-p', 'fake', 'position']],
  ['position, formatted', ['-p', 'fake', '-f', '{{position}} {{duration(position)}}', 'position']],
  ['position of mpv', ['-p', mpv.name, 'position']],
  ['volume', ['-p', 'fake', 'volume']],
  ['volume, formatted', ['-p', 'fake', '--format', '{{volume}} {{emoji(volume)}}', 'volume']],
  ['volume of mpv', ['-p', mpv.name, 'volume']],
  ['loop', ['-p', 'fake', 'loop']],
  ['shuffle', ['-p', 'fake', 'shuffle']],
  ['no status', ['-p', 'bare', 'status']],
  ['no volume', ['-p', 'bare', 'volume']],
  ['no loop', ['-p', 'bare', 'loop']],
  ['no loop, formatted', ['-p', 'bare', '-f', '{{loop}}', 'loop']],
  ['no shuffle', ['-p', 'bare', 'shuffle']],
  ['missing properties in a template', ['-p', 'bare', '-f', '{{status}}|{{volume}}|{{loop}}|{{shuffle}}|{{emoji(volume)}}', 'metadata']],
  ['metadata', ['-p', 'fake', 'metadata']],
  ['metadata with odd values', ['-p', 'averyverylongplayername', 'metadata']],
  ['metadata of mpv', ['-p', mpv.name, 'metadata']],
  ['metadata title', ['-p', 'fake', 'metadata', 'title']],
  ['metadata artist', ['-p', 'fake', 'metadata', 'artist']],
  ['metadata xesam:artist', ['-p', 'fake', 'metadata', 'xesam:artist']],
  ['metadata mpris:length', ['-p', 'fake', 'metadata', 'mpris:length']],
  ['metadata mpris:trackid', ['-p', 'fake', 'metadata', 'mpris:trackid']],
  ['metadata of a variant', ['-p', 'fake', 'metadata', 'fake:wrapped']],
  ['metadata with a line feed', ['-p', 'fake', 'metadata', 'xesam:asText']],
  ['metadata, two keys', ['-p', 'fake', 'metadata', 'xesam:album', 'xesam:title']],
  ['metadata, a missing key', ['-p', 'fake', 'metadata', 'xesam:nope']],
  ['metadata title of all', ['-a', 'metadata', 'title']],
  ['metadata of all', ['-a', 'metadata']],
  ['metadata of a player that cannot play', ['-p', 'locked', 'metadata']],
  ['no players found', ['-p', 'nope', 'status']],
  ['no players found, silenced', ['-s', '-p', 'nope', 'status']],
  ['no player could handle', ['-p', 'locked', 'next']],
  ['no player could handle, silenced', ['-s', '-p', 'locked', 'play']],
  ['volume refused by a locked player', ['-p', 'locked', 'volume', '0.3']],
  ['unknown command', ['-p', 'fake', 'bogus']],
  ['format on a command without', ['-p', 'fake', '-f', '{{title}}', 'play']],
  ['follow on a command without', ['-p', 'fake', '-F', 'play']],
  ['format on a setter', ['-p', 'fake', '-f', '{{position}}', 'position', '10']],
  ['unparsable position', ['-p', 'fake', 'position', 'abc']],
  ['unparsable volume', ['-p', 'fake', 'volume', 'abc']],
  ['unknown loop status', ['-p', 'fake', 'loop', 'foo']],
  ['unknown shuffle status', ['-p', 'fake', 'shuffle', 'x']],
  ['unknown option', ['-x', 'status']],
  ['unknown long option', ['--bogus', 'status']],
  ['missing option value', ['status', '-p']],
  ['two values in one group', ['-pf', 'fake', 'status']],
  ['a negative volume is an option', ['-p', 'fake', 'volume', '-1']],
  ['--player=NAME', ['--player=fake', 'status']],
  ['grouped flags', ['-sp', 'fake', 'status']],
  ['-- ends the options', ['-p', 'fake', '--', 'status']],
  ['extra words ignored', ['-p', 'fake', 'status', 'extra', 'words']],
  ['the last -p wins', ['-p', 'locked', '-p', 'fake', '-f', '{{playerName}}', 'status']],
  ['version', ['--version']],
  ['-v', ['-v']],
  ['template error before any player', ['-p', 'nope', '-f', '{{', 'status']],
  ['runtime template error needs a player', ['-p', 'nope', '-f', '{{nofn(x)}}', 'status']],
];

async function compare(t, name, args) {
  const expected = await playerctl(args, pcEnv);
  const actual = await mediagatePlayerctl(args, mgEnv);
  const diff = differences(expected, actual);
  t.same(diff, [], `${name}: playerctl ${shown(args)}`);
  return diff;
}

let compared = 0;
t.test('templates and invocations: the same bytes as playerctl', async (t) => {
  for (const [name, args] of [...TEMPLATES, ...INVOCATIONS]) {
    await compare(t, name, args);
    compared++;
  }
});

// ---- control commands: same output, and the player left in the same state
const resetFake = () => fake.changed({ Volume: 0.5, LoopStatus: 'Track', Shuffle: true });
const serialize = (x) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
const CONTROLS = [
  ['volume 0.3', ['-p', 'fake', 'volume', '0.3'], ['-p', 'fake', 'volume']],
  ['volume 0.1+', ['-p', 'fake', 'volume', '0.1+'], ['-p', 'fake', 'volume']],
  ['volume 0.2-', ['-p', 'fake', 'volume', '0.2-'], ['-p', 'fake', 'volume']],
  ['volume 0.333', ['-p', 'fake', 'volume', '0.333'], ['-p', 'fake', 'volume']],
  ['loop playlist', ['-p', 'fake', 'loop', 'playlist'], ['-p', 'fake', 'loop']],
  ['loop NONE', ['-p', 'fake', 'loop', 'NONE'], ['-p', 'fake', 'loop']],
  ['shuffle toggle', ['-p', 'fake', 'shuffle', 'toggle'], ['-p', 'fake', 'shuffle']],
  ['shuffle Off', ['-p', 'fake', 'shuffle', 'Off'], ['-p', 'fake', 'shuffle']],
  ['position 10', ['-p', 'fake', 'position', '10'], null],
  ['position 5+', ['-p', 'fake', 'position', '5+'], null],
  ['position 2.5-', ['-p', 'fake', 'position', '2.5-'], null],
  ['play', ['-p', 'fake', 'play'], null],
  ['pause', ['-p', 'fake', 'pause'], null],
  ['play-pause', ['-p', 'fake', 'play-pause'], null],
  ['stop', ['-p', 'fake', 'stop'], null],
  ['next', ['-p', 'fake', 'next'], null],
  ['previous', ['-p', 'fake', 'previous'], null],
  ['open a URL', ['-p', 'fake', 'open', 'https://example.org/stream.mp3'], null],
  ['open a file by relative path', ['-p', 'fake', 'open', 'music/c.mp3'], null],
  ['open nothing', ['-p', 'fake', 'open'], null],
  ['first player that can: pause', ['-p', 'locked,fake', 'pause'], null],
];

t.test('control commands: the same output and the same effect', async (t) => {
  for (const [name, args, readBack] of CONTROLS) {
    const results = [];
    for (const tool of [playerctl, mediagatePlayerctl]) {
      resetFake();
      await new Promise((r) => setTimeout(r, 50));
      const before = fake.calls.length;
      const result = await tool(args, tool === playerctl ? pcEnv : mgEnv, { cwd: dir });
      const after = readBack ? (await playerctl(readBack, pcEnv)).stdout : serialize(fake.calls.slice(before).map((m, i) => [m, fake.callArgs[before + i]]));
      results.push({ ...result, after });
    }
    t.same(differences(results[0], results[1]), [], `${name}: output`);
    t.equal(results[1].after, results[0].after, `${name}: the player is left the same (${results[0].after.trim()})`);
    compared++;
  }
  resetFake();
});

t.test('mpv: pause, play, seek and volume have the same effect', async (t) => {
  const p = mpv.name;
  for (const [name, args, readBack] of [
    ['play', ['-p', p, 'play'], ['-p', p, 'status']],
    ['pause', ['-p', p, 'pause'], ['-p', p, 'status']],
    ['play-pause', ['-p', p, 'play-pause'], ['-p', p, 'status']],
    ['seek to 4 s (paused)', ['-p', p, 'position', '4'], ['-p', p, '-f', '{{duration(position)}}', 'position']],
    ['volume 0.25', ['-p', p, 'volume', '0.25'], ['-p', p, 'volume']],
  ]) {
    const results = [];
    for (const tool of [playerctl, mediagatePlayerctl]) {
      await playerctl(['-p', p, 'pause'], pcEnv);
      await playerctl(['-p', p, 'position', '2'], pcEnv);
      await playerctl(['-p', p, 'volume', '1'], pcEnv);
      await new Promise((r) => setTimeout(r, 150));
      const result = await tool(args, tool === playerctl ? pcEnv : mgEnv);
      await new Promise((r) => setTimeout(r, 150));
      results.push({ ...result, after: (await playerctl(readBack, pcEnv)).stdout });
    }
    t.same(differences(results[0], results[1]), [], `${name}: output`);
    t.equal(results[1].after, results[0].after, `${name}: mpv is left the same (${results[0].after.trim()})`);
    compared++;
  }
  await playerctl(['-p', p, 'pause'], pcEnv);
});

t.test('--follow: the same lines for a pause/play/next sequence', async (t) => {
  const p = mpv.name;
  await playerctl(['-p', p, 'play'], pcEnv);
  await new Promise((r) => setTimeout(r, 300));
  const FOLLOWS = [
    ['-p', p, '-F', 'status'],
    ['-p', p, '-F', 'metadata', '--format', '{{status}} {{title}}'],
    ['-p', p, '--follow', 'metadata', 'title'],
    ['-F', '-f', '{{playerName}}: {{lc(status)}} {{xesam:title}}', 'status'],
    ['-p', `${p},%any`, '-F', 'metadata', '--format', '{"text": "{{artist}} - {{markup_escape(title)}}", "alt": "{{status}}"}'],
  ];
  const pairs = FOLLOWS.map((args) => ({
    args,
    reference: follower(t, 'playerctl', args, pcEnv),
    ours: follower(t, process.execPath, [BIN, 'playerctl', ...args], mgEnv),
  }));
  // After each change: wait until playerctl has been quiet for a while, then until mediagate has as many lines.
  const step = async (since) => {
    for (const f of pairs) {
      const want = await f.reference.settled(1, 800, since);
      await f.ours.settled(want.length, 300, since);
    }
  };
  await step(Date.now());
  for (const change of [['pause'], ['play'], ['next']]) {
    const at = Date.now();
    await playerctl(['-p', p, ...change], pcEnv);
    await step(at);
  }
  for (const f of pairs) {
    t.ok(f.reference.lines.length >= 2, `playerctl ${shown(f.args)} printed the changes (${f.reference.lines.length} lines)`);
    t.same(f.ours.lines, f.reference.lines, `follow: playerctl ${shown(f.args)}`);
    compared++;
  }
  await playerctl(['-p', p, 'pause'], pcEnv);
});

t.test('the comparison fails when one template differs', async (t) => {
  // A deliberately wrong pair: what mediagate is given differs from what playerctl is given by one function.
  const expected = await playerctl(fmt('{{lc(status)}} {{title}}'), pcEnv);
  const actual = await mediagatePlayerctl(fmt('{{uc(status)}} {{title}}'), mgEnv);
  const diff = differences(expected, actual);
  t.equal(diff.length, 1, 'one difference found');
  t.equal(diff[0]?.what, 'stdout');
  t.same([diff[0]?.playerctl, diff[0]?.mediagate], ['paused A <Title> & "more"\n', 'PAUSED A <Title> & "more"\n']);
  // …and a byte of difference in the exit code or stderr alone counts too.
  t.equal(differences({ stdout: '', stderr: 'No players found\n', code: 1 }, { stdout: '', stderr: 'No players found\n', code: 0 }).length, 1);
  t.equal(differences({ stdout: 'a', stderr: 'x\n', code: 0 }, { stdout: 'a', stderr: 'x', code: 0 }).length, 1);
});

t.test('table size', async (t) => {
  t.ok(compared >= 60, `${compared} invocations compared with playerctl`);
});
