/** The player and mixer checks of each platform, recording raw probe outputs when asked. */
import { MediagateError } from '../errors.js';
import { RunError, runProgram, type RunResult } from '../tools/run.js';
import type { ProbeContext } from './common.js';
import type { Check, Recorder } from './report.js';

const msg = (e: unknown) => (e instanceof MediagateError ? e.message : (e as Error)?.message ?? String(e));
const hint = (e: unknown) => (e instanceof MediagateError ? e.hint : undefined);

/** Run a probe command, record it, and give its result (or the reason it did not run). */
async function probe(rec: Recorder, name: string, program: string, args: readonly string[], c: ProbeContext, tool = program): Promise<RunResult | { error: string }> {
  let r: RunResult | { error: string };
  try {
    r = await runProgram(program, args, { env: c.env, timeoutMs: Math.max(c.timeoutMs, 5000) });
  } catch (e) {
    r = { error: e instanceof RunError ? (e.failure.kind === 'missing' ? `${program} is not installed` : e.failure.kind === 'timeout' ? `${program} did not finish in time` : e.message) : String(e) };
  }
  rec.record(name, tool, args, r);
  return r;
}

// ------------------------------------------------------------------ Linux

export async function linuxChecks(c: ProbeContext, rec: Recorder): Promise<Check[]> {
  const checks: Check[] = [];
  const { MprisSource } = await import('../players/mpris.js');
  const { sessionBusAddress } = await import('../players/dbus-address.js');
  const mpris = new MprisSource({ env: c.env, timeoutMs: c.timeoutMs });
  try {
    const address = sessionBusAddress(c.env);
    const names = await mpris.playerNames();
    checks.push({ id: 'session-bus', area: 'players', name: 'D-Bus session bus', status: 'ok', found: address, enables: 'players' });
    checks.push(names.length
      ? { id: 'mpris', area: 'players', name: 'MPRIS players', status: 'ok', found: names.join(', ') }
      : { id: 'mpris', area: 'players', name: 'MPRIS players', status: 'warn', found: 'none on the bus', fix: 'start a player with MPRIS support (mpv needs mpv-mpris; browsers and most players have it built in)' });
    rec.record('linux-mpris-names', 'dbus', ['ListNames'], { stdout: `${JSON.stringify(names)}\n`, stderr: '', code: 0 });
  } catch (e) {
    checks.push({ id: 'session-bus', area: 'players', name: 'D-Bus session bus', status: 'warn', found: 'not reachable', why: msg(e), fix: hint(e) });
  } finally {
    await mpris.close();
  }
  const { AlsaMixer, PipewireMixer } = await import('../volume/mixers.js');
  const { PulseMixer } = await import('../volume/pulse/mixer.js');
  const tool = { env: c.env, timeoutMs: c.timeoutMs };
  const mixers = [
    { id: 'pulse', name: 'PulseAudio / pipewire-pulse (native socket, pactl fallback)', mixer: new PulseMixer(tool), raw: ['pactl', ['get-sink-volume', '@DEFAULT_SINK@']] as const, fix: 'install pulseaudio-utils, and start PulseAudio or pipewire-pulse' },
    { id: 'pipewire', name: 'PipeWire (wpctl)', mixer: new PipewireMixer(tool), raw: ['wpctl', ['get-volume', '@DEFAULT_AUDIO_SINK@']] as const, fix: 'install wireplumber and start PipeWire' },
    { id: 'alsa', name: 'ALSA (amixer)', mixer: new AlsaMixer({ ...tool, control: c.config.get<string>('volume.alsaControl') ?? 'Master' }), raw: ['amixer', ['-M', 'get', c.config.get<string>('volume.alsaControl') ?? 'Master']] as const, fix: 'install alsa-utils; check volume.alsaControl / volume.alsaCard' },
  ];
  for (const m of mixers) {
    if (rec.on) await probe(rec, `linux-${m.id}`, m.raw[0], m.raw[1], c);
    try {
      const r = await m.mixer.get();
      const via = 'via' in m.mixer && m.mixer.via ? ` (${m.mixer.via})` : '';
      checks.push({ id: `mixer-${m.id}`, area: 'volume', name: m.name, status: 'ok', found: `level ${r.level}${r.muted ? ', muted' : ''}${via}` });
    } catch (e) {
      checks.push({ id: `mixer-${m.id}`, area: 'volume', name: m.name, status: 'warn', found: 'not usable', why: msg(e), fix: m.fix });
    } finally {
      if ('close' in m.mixer && typeof m.mixer.close === 'function') m.mixer.close();
    }
  }
  return checks;
}

// ------------------------------------------------------------------ macOS

export async function macosChecks(c: ProbeContext, rec: Recorder): Promise<Check[]> {
  const checks: Check[] = [];
  await probe(rec, 'macos-sw_vers', 'sw_vers', ['-productVersion'], c);
  const { findMediaControl, GET_ARGS } = await import('../players/macos/media-control.js');
  const { findOsascript, AUTOMATION_HINT, appleScriptError } = await import('../players/macos/osascript.js');
  const { readAllScript, parseReadAll } = await import('../players/macos/applescript.js');
  const mc = findMediaControl(c.env);
  let mcWorks = false;
  if (!mc) {
    checks.push({ id: 'media-control', area: 'players', name: 'media-control', status: 'warn', found: 'not installed (looked on PATH, in /opt/homebrew/bin and /usr/local/bin)',
      why: 'without it only Music and Spotify can be controlled (through AppleScript), and no other app', fix: 'brew install ungive/media-control/media-control' });
  } else {
    const test = await probe(rec, 'macos-media-control-test', mc, ['test'], c, 'media-control');
    mcWorks = !('error' in test) && test.code === 0;
    if (mcWorks) {
      const got = await probe(rec, 'macos-media-control-get', mc, GET_ARGS, c, 'media-control');
      const playing = !('error' in got) && got.code === 0 && got.stdout.trim() !== 'null';
      checks.push({ id: 'media-control', area: 'players', name: 'media-control', status: 'ok', found: `${mc} works (${playing ? 'something is playing' : 'nothing plays now'})`, enables: 'players' });
    } else {
      const why = 'error' in test ? test.error : `\`media-control test\` exited ${test.code}${test.stderr.trim() ? `: ${test.stderr.trim().split('\n')[0]}` : ''}`;
      checks.push({ id: 'media-control', area: 'players', name: 'media-control', status: 'warn', found: mc, why, fix: 'brew upgrade media-control (a newer macOS may need a newer one); meanwhile AppleScript is used for Music and Spotify' });
    }
  }
  checks.push({ id: 'macos-via', area: 'players', name: 'macOS players through', status: 'ok',
    found: mcWorks ? `media-control (${mc}): the app playing now, whichever it is` : 'AppleScript: Music and Spotify only' });
  const osa = findOsascript(c.env);
  if (!osa) {
    checks.push({ id: 'osascript', area: 'players', name: 'AppleScript (osascript)', status: 'fail', found: 'osascript not found', fix: 'it is part of macOS: check that /usr/bin is on PATH' });
    return checks;
  }
  const all = await probe(rec, 'macos-osascript-players', osa, readAllScript().flatMap((l) => ['-e', l]), c, 'osascript');
  if ('error' in all || all.code !== 0) {
    const e = 'error' in all ? new Error(all.error) : appleScriptError(all.stderr, 'Music and Spotify');
    const denied = e instanceof MediagateError && e.code === 'macos.automation_denied';
    checks.push({ id: 'applescript', area: 'players', name: 'AppleScript: Music, Spotify', status: mcWorks ? 'warn' : 'fail', found: denied ? 'Automation permission refused' : 'failed', why: msg(e), fix: denied ? AUTOMATION_HINT : undefined });
  } else {
    const states = parseReadAll(all.stdout, Date.now());
    const running = [...states.entries()].filter(([, s]) => s).map(([a]) => a);
    checks.push({ id: 'applescript', area: 'players', name: 'AppleScript: Music, Spotify', status: 'ok', found: running.length ? `running: ${running.join(', ')}` : 'allowed; neither app is running', enables: mcWorks ? undefined : 'players' });
  }
  const vol = await probe(rec, 'macos-osascript-volume', osa, ['-e', 'get volume settings'], c, 'osascript');
  const { parseVolumeSettings } = await import('../volume/macos.js');
  try {
    if ('error' in vol || vol.code !== 0) throw new Error('error' in vol ? vol.error : vol.stderr.trim());
    const v = parseVolumeSettings(vol.stdout);
    checks.push(v.level === null
      ? { id: 'mixer-macos', area: 'volume', name: 'system volume (osascript)', status: 'warn', found: 'missing value', why: 'the current output device has no volume control', fix: 'pick another output in System Settings → Sound' }
      : { id: 'mixer-macos', area: 'volume', name: 'system volume (osascript)', status: 'ok', found: `level ${v.level}${v.muted ? ', muted' : ''}` });
  } catch (e) {
    checks.push({ id: 'mixer-macos', area: 'volume', name: 'system volume (osascript)', status: 'warn', found: 'not readable', why: msg(e) });
  }
  return checks;
}

// ------------------------------------------------------------------ Windows

export async function windowsChecks(c: ProbeContext, rec: Recorder): Promise<Check[]> {
  const checks: Check[] = [];
  const { findPowershell, helperScript, WindowsHelper, HELPER_ARGS } = await import('../players/windows/helper.js');
  const exe = findPowershell(c.env);
  if (!exe) {
    checks.push({ id: 'powershell', area: 'players', name: 'Windows PowerShell 5.1', status: 'fail', found: 'powershell.exe not found',
      fix: 'it is part of Windows (%SystemRoot%\\System32\\WindowsPowerShell\\v1.0); PowerShell 7 (pwsh) cannot be used instead' });
    return checks;
  }
  checks.push({ id: 'powershell', area: 'players', name: 'Windows PowerShell 5.1', status: 'ok', found: exe });
  const helper = new WindowsHelper({ env: c.env, timeoutMs: Math.max(c.timeoutMs, 10_000) });
  const lines: string[] = [];
  const argv = [...HELPER_ARGS, helperScript()];
  try {
    const probeResult = await helper.request('probe') as Record<string, unknown>;
    if (helper.info) lines.push(JSON.stringify(helper.info));
    lines.push(JSON.stringify({ id: 1, ok: true, result: probeResult }));
    checks.push({ id: 'helper', area: 'players', name: 'mediagate helper', status: 'ok', found: `PowerShell ${String(probeResult.powershell)} on ${String(probeResult.os)}` });
    if (probeResult.winrt !== true) {
      checks.push({ id: 'gsmtc', area: 'players', name: 'media sessions (WinRT)', status: 'fail', found: 'not reachable', why: String(probeResult.winrtError ?? 'WinRT types did not load'), fix: 'mediagate needs Windows 10 1809 or later with Windows PowerShell 5.1' });
    } else if (probeResult.sessionsError) {
      checks.push({ id: 'gsmtc', area: 'players', name: 'media sessions (WinRT)', status: 'fail', found: 'the session manager refused', why: String(probeResult.sessionsError) });
    } else {
      const sessions = await helper.request('sessions');
      lines.push(JSON.stringify({ id: 2, ok: true, result: sessions }));
      const n = Number(probeResult.sessions ?? 0);
      const service = probeResult.windowsSession === 0;
      checks.push({ id: 'gsmtc', area: 'players', name: 'media sessions (WinRT)', status: service ? 'warn' : 'ok', found: `${n} session${n === 1 ? '' : 's'}`, enables: 'players',
        ...(service ? { why: 'running in session 0 (as a service): media sessions of the desktop are not visible from there', fix: 'run serve at logon from Task Scheduler with "Run only when user is logged on" (see the README)' } : {}) });
    }
    checks.push(probeResult.volume
      ? { id: 'mixer-windows', area: 'volume', name: 'system volume (Core Audio)', status: 'ok', found: `level ${(probeResult.volume as { level: number }).level}` }
      : { id: 'mixer-windows', area: 'volume', name: 'system volume (Core Audio)', status: 'warn', found: 'not readable', why: String(probeResult.volumeError ?? 'unknown') });
  } catch (e) {
    checks.push({ id: 'helper', area: 'players', name: 'mediagate helper', status: 'fail', found: 'did not answer', why: msg(e),
      fix: hint(e) ?? 'check that scripts may run (the helper is started with -ExecutionPolicy Bypass) and that antivirus does not block powershell.exe' });
  } finally {
    rec.record('windows-helper', 'powershell.exe', argv, { stdout: lines.map((l) => `${l}\n`).join(''), stderr: helper.stderrTail.join('\n'), code: 0 });
    await helper.close();
  }
  return checks;
}
