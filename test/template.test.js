// The one template engine in its two dialects, without players: mediagate's
// own --format (names, units, static checks) and playerctl's (typed values,
// its messages). The byte-for-byte comparison with playerctl itself, on real
// players, is test/playerctl-diff.test.js; the expectations here are what
// playerctl 2.4.1 printed for the same values.
import t from 'tap';
import { compileTemplate, playerctlTemplate, playerctlVariables, escapeValue } from '../dist/core/format.js';
import { fromJson } from '../dist/core/template/value.js';
import { doubleText, printfF, gvariantText } from '../dist/core/template/gvariant-text.js';
import { fromVariant } from '../dist/core/players/dbus-value.js';

const state = {
  player: 'mpv', status: 'playing', title: 'Tëst <b>&', artist: 'Probe', album: null,
  duration: 3725, position: 65.4, positionUpdatedAt: null, volume: 50, shuffle: false, repeat: 'off', artUrl: null,
  capabilities: {},
};
const metadata = { 'xesam:artist': ['Probe', 'Other'], 'mpris:length': 3725000000, 'xesam:url': 'file:///m/a.ogg', 'xesam:trackNumber': 3 };
const mg = (tpl, mode = 'plain') => compileTemplate(tpl)(state, mode, metadata);

t.test('mediagate dialect: its names and units, playerctl functions and arithmetic', async (t) => {
  t.equal(mg('{{artist}} - {{title}} [{{duration(position)}}/{{duration(duration)}}]'), 'Probe - Tëst <b>& [1:05/1:02:05]');
  t.equal(mg('{{duration(duration - position)}}'), '1:00:59', 'arithmetic in seconds');
  t.equal(mg('{{volume / 10}} {{volume * 1.5}} {{-volume}} {{volume / 0}}|'), '5 75 -50 |', 'division by zero expands to nothing');
  t.equal(mg('{{title + " (" + status + ")"}}'), 'Tëst <b>& (playing)', '+ joins text');
  t.equal(mg('{{album + "x"}}|{{album * 2}}|'), 'x||', 'a missing value: empty text, or nothing');
  t.equal(mg('{{markup_escape(title)}}'), 'Tëst &lt;b&gt;&amp;');
  t.equal(mg('{{trunc(title, 3)}}|{{trunc(title, 40)}}|{{trunc(album, 2)}}'), 'Tës…|Tëst <b>&|');
  t.equal(mg('{{emoji(status)}} {{emoji(volume)}} {{emoji(repeat)}}'), '\u25b6\ufe0f \u{1f509} off');
  t.equal(mg('{{uc(status)}} {{lc(artist)}} {{default(album, "none")}} {{default(title, "none")}}'), 'PLAYING probe none Tëst <b>&');
  t.equal(mg('{{xesam:artist}}|{{mpris:length}}|{{duration(mpris:length / 1000000)}}|{{xesam:trackNumber + 1}}|{{xesam:nope}}|'),
    'Probe, Other|3725000000|1:02:05|4||', 'metadata keys with their native values');
  t.equal(compileTemplate('{{xesam:url}}|')(state, 'plain'), '|', 'metadata not fetched: the keys are empty');
  t.ok(compileTemplate('{{trunc(xesam:title, 5)}}').usesMetadata);
  t.notOk(compileTemplate('{{title}} {{duration(position)}}').usesMetadata);
  const json = compileTemplate('{"t":"{{title}}","a":{{json(album)}},"v":{{json(volume)}},"x":{{json(xesam:artist)}}}')(state, 'json', metadata);
  t.same(JSON.parse(json), { t: state.title, a: null, v: 50, x: ['Probe', 'Other'] }, 'json mode keeps a template JSON-valid');
});

t.test('mediagate dialect: everything that cannot expand is refused before any output', async (t) => {
  for (const [bad, why] of [
    ['{{nope}}', /unknown template variable 'nope'/], ['{{shout(title)}}', /unknown function 'shout'/],
    ['{{default(title)}}', /default\(\) takes 2 arguments/], ['{{duration()}}', /expected expression/],
    ['{{emoji("x")}}', /emoji\(\) takes a variable/], ['{{trunc(title, "3")}}', /number of characters/],
    ['{{title', /unexpected end of expression/], ['{{1 +}}', /expected expression/],
  ]) {
    t.throws(() => compileTemplate(bad), { name: 'TemplateError', message: why }, bad);
  }
});

const snapshot = {
  name: 'f1', instance: 'f1', status: 'Paused', loop: 'Track', shuffle: true, volume: 0.5, position: 83000000n,
  metadata: Object.entries({
    'mpris:trackid': { t: 'o', v: '/f/1' },
    'xesam:title': { t: 's', v: 'A <Title> & "more"' },
    'xesam:artist': { t: 'as', v: [{ t: 's', v: 'Art One' }, { t: 's', v: 'Art Two' }] },
    'mpris:length': { t: 'x', v: 3723000000n },
    'xesam:trackNumber': { t: 'i', v: 7 },
    'xesam:asText': { t: 's', v: 'line1\nline2\u001b[31m' },
    'fake:u': { t: 't', v: 18446744073709551615n },
    'fake:v': { t: 'v', v: { t: 's', v: 'inner' } },
  }),
};
const pc = (tpl) => playerctlTemplate(tpl).render(playerctlVariables(snapshot, true), 'terminal');

t.test('playerctl dialect: typed values, playerctl units and printing', async (t) => {
  t.equal(pc('{{playerName}}: {{lc(status)}} {{duration(position)}}|{{duration(mpris:length)}}'), 'f1: paused 1:23|1:02:03');
  t.equal(pc('{{10}}|{{10/3}}|{{0.1+0.2}}|{{volume*100}}|{{ -0 }}|{{mpris:length - position}}|{{mpris:length / 1000000}}'),
    '10.0|3.3333333333333335|0.30000000000000004|50.0|-0.0|3640000000|3723.0');
  t.equal(pc('{{2*(3+4)}}|{{8+-+--++-4}}|{{(14 - 2 * 3) * (14 * -2 - 6) + -(4 - 2) * 5}}'), '14.0|12.0|-282.0');
  t.equal(pc('{{artist}}|{{mpris:trackid}}|{{fake:v}}|{{fake:u + 1}}|{{duration(fake:u)}}|{{shuffle}}|{{loop}}|{{nope}}'),
    "Art One, Art Two|'/f/1'|<'inner'>|1.8446744073709552e+19|0:00|true|Track|");
  t.equal(pc('{{trunc(title, 5)}}|{{trunc(title, 2.7)}}|{{trunc(title, -1)}}|{{markup_escape(title)}}'), 'A <Ti…|A …|A <Title> & "more"|A &lt;Title&gt; &amp; &quot;more&quot;');
  t.equal(pc('{{emoji(status)}}{{emoji(volume)}}|{{default("", "x")}}|{{duration(-65000000)}}'), '\u23f8\ufe0f\u{1f509}|x|-1:-5');
  t.equal(pc('{{xesam:asText}}'), 'line1\nline2 [31m', 'terminal escapes from metadata never reach the terminal; a line feed does, as in playerctl');
  const status = playerctlTemplate('{{status}} {{title}}|').render(playerctlVariables(snapshot, false), 'terminal');
  t.equal(status, 'Paused |', 'outside the metadata command a template sees no metadata');
  t.equal(playerctlTemplate('{{status}}{{volume}}').render(playerctlVariables({ name: 'b', instance: 'b', metadata: [] }, false), 'terminal'), 'Playing0.0', "playerctl's values for missing properties");
});

t.test('playerctl dialect: its errors, word for word', async (t) => {
  for (const [tpl, message] of [
    ['{{1/0}}', 'Divide by zero error'],
    ['{{xesam:trackNumber + 1}}', "Got unsupported operand types for +: 'i' and 'd'"],
    ['{{"a" + "b"}}', "Got unsupported operand types for +: 's' and 's'"],
    ['{{nope + 1}}', 'Got unsupported operand type for +: NULL'],
    ['{{-title}}', "Got unsupported operand type for unary -: 's'"],
    ['{{position * mpris:length}}', 'Numeric overflow detected'],
    ['{{trunc(title, "3")}}', "function trunc's length parameter can only be called with an int"],
    ['{{emoji("x")}}', 'the emoji function can only be called with a variable'],
    ['{{duration(title)}}', 'function duration can only be called on track position values'],
    ['{{duration(position, 1)}}', 'function uc takes exactly one argument (got 2)'],
    ['{{default(title)}}', 'function default takes exactly two arguments (got 1)'],
    ['{{nofn(title)}}', 'unknown template function: nofn'],
  ]) t.throws(() => pc(tpl), { name: 'TemplateRuntimeError', message }, tpl);
  for (const [tpl, message] of [
    ['{{1.2.3}}', 'invalid number: "1.2.3" (position 7)'],
    ['{{(1}}', 'expected ")" (position  4)'],
    ['{{ }}', 'unexpected "}", expected expression (position  3)'],
    ['{{title', 'unexpected end of expression'],
    ['{{"a\\"b"}}', 'expecting "}}" (position 6)'],
    ['{{ lc ( title ) }}', 'expecting "}}" (position 6)'],
    ['{{lc()}}', 'unexpected ")", expected expression (position  5)'],
    ['é{{ ! }}', 'unexpected "!", expected expression (position  5)'],
    ['x'.repeat(1028), 'the maximum format string length is 1028'],
  ]) t.throws(() => playerctlTemplate(tpl), { name: 'TemplateError', message }, tpl);
  t.equal(pc('a}}b{'), 'a}}b{', 'text outside {{ }} is printed verbatim');
});

t.test('values: GLib printing, JSON typing, D-Bus decoding', async (t) => {
  t.equal(doubleText(2.5e-7), '2.4999999999999999e-07');
  t.equal(doubleText(1e21), '1e+21');
  t.equal(doubleText(0.75), '0.75');
  t.equal(printfF(83.00002), '83.000020');
  t.equal(printfF(-0), '-0.000000');
  t.equal(gvariantText({ t: 'ao', v: [{ t: 'o', v: '/a' }, { t: 'o', v: '/b' }] }), "['/a', '/b']");
  t.equal(gvariantText({ t: 's', v: "it's" }), '"it\'s"');
  t.same(fromJson(3723000000, 'x'), { t: 'x', v: 3723000000n }, 'mpris:length from JSON is an int64');
  t.same(fromJson('Solo', 'as'), { t: 'as', v: [{ t: 's', v: 'Solo' }] });
  t.same(fromJson(7), { t: 'x', v: 7n }, 'an integer of an unknown key');
  t.equal(fromJson(null), undefined);
  t.same(fromVariant({ signature: 'as', value: ['a', 'b'] }), { t: 'as', v: [{ t: 's', v: 'a' }, { t: 's', v: 'b' }] });
  t.same(fromVariant({ signature: 'a{sv}', value: { k: { signature: 'x', value: 5n } } }), { t: 'a{sv}', v: [[{ t: 's', v: 'k' }, { t: 'v', v: { t: 'x', v: 5n } }]] });
  t.equal(fromVariant({ signature: 'z', value: 1 }), undefined, 'an unknown type is no value, not a crash');
  t.equal(escapeValue('a\tb\nc\u001b\u009b', 'terminal'), 'a\tb\nc  ');
  t.equal(escapeValue('a\tb\nc', 'plain'), 'a b c');
});
