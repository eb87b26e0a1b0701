// What can be checked of helpers/windows/helper.ps1 on Linux: it is valid
// UTF-8 (and ASCII, so PowerShell 5.1 reads it the same in any code page),
// it handles every request type the Node side sends, its answers have the
// shapes of the fixtures the Node side is tested with, and it ships.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TextDecoder } from 'node:util';
import { ROOT } from './helpers/cli.js';
import { fixture } from './helpers/fake-desktop.js';
import { REQUEST_TYPES } from '../dist/core/players/windows/protocol.js';

const bytes = readFileSync(join(ROOT, 'helpers', 'windows', 'helper.ps1'));
const text = bytes.toString('utf8');

t.test('valid UTF-8, ASCII only, no BOM', async (t) => {
  t.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  t.notOk(bytes.some((b) => b > 0x7e || (b < 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)), 'ASCII only');
  t.not(bytes[0], 0xef, 'no byte order mark needed');
  t.match(text, /\[Console\]::InputEncoding = \$utf8/, 'stdin read as UTF-8');
  t.match(text, /\[Console\]::OutputEncoding = \$utf8/, 'stdout written as UTF-8');
});

t.test('every request type mediagate sends has a case in the request loop, and nothing else does', async (t) => {
  const loop = text.slice(text.indexOf('function Handle('), text.indexOf('# stdin is read on a second runspace'));
  const cases = [...loop.matchAll(/^\s+'([a-z.]+)' \{/gm)].map((m) => m[1]);
  t.same([...cases].sort(), [...REQUEST_TYPES].sort());
  t.match(loop, /default \{ Fail 'unknown_request'/, 'an unknown type gets an error answer');
});

/** The keys of the hashtable literal that follows `marker` (one level, nested tables skipped). */
function keysAfter(marker, from = 0) {
  const start = text.indexOf(marker, from);
  t.ok(start >= 0, `found ${marker}`);
  let depth = 0;
  const keys = [];
  let i = text.indexOf('@{', start);
  for (const line of text.slice(i).split('\n')) {
    const m = /^\s*([A-Za-z]+) = /.exec(line);
    if (m && depth === 1) keys.push(m[1]);
    depth += (line.match(/@\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    if (depth <= 0) break;
  }
  return keys;
}

t.test("the helper's answers have the fixtures' shapes", async (t) => {
  const session = fixture('windows-sessions.json').answer.result.sessions[0];
  const describe = text.indexOf('function Describe(');
  t.same(keysAfter('return @{', describe).sort(), Object.keys(session).sort(), 'a session: the keys of the fixture');
  t.same(keysAfter('playback = @{', describe).sort(), Object.keys(session.playback).sort(), 'playback');
  t.same(keysAfter('controls = @{', describe).sort(), Object.keys(session.playback.controls).sort(), 'controls');
  t.same(keysAfter('timeline = @{', describe).sort(), Object.keys(session.timeline).sort(), 'timeline');
  t.match(text, /Send @\{ type = 'ready'; version = 1; powershell = \$psVersion; winrt = \$script:winrt; error = \$script:winrtError \}/, 'ready line as in the fixture');
  t.same(Object.keys(fixture('windows-sessions.json').ready).sort(), ['error', 'powershell', 'type', 'version', 'winrt']);
  t.match(text, /return @\{ level = \[Math\]::Round\(\[double\]\$e\.Level \* 100\); muted = \[bool\]\$e\.Muted \}/, 'volume.get answers {level, muted}');
  t.match(text, /Send @\{ id = \$id; ok = \$false; error = @\{ code = \$code; message = /, 'errors answer {id, ok:false, error:{code, message}}');
  for (const e of ["event = 'sessions'", "event = 'volume'", "event = 'session'; session ="]) t.ok(text.includes(e), `emits ${e}`);
  t.match(text, /ConvertTo-Json -InputObject \$obj -Compress -Depth 8/, 'one line per object, deep enough for a session');
  t.match(text, /TryChangePlaybackPositionAsync\(\[long\]\$req\.ticks\)/, 'seek in ticks');
});

t.test('the script ships in the package', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  t.ok(pkg.files.includes('helpers'), 'package.json files lists helpers/');
});
