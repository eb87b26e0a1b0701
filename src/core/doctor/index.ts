import { platformOf } from '../platform.js';
import { checkMpd, checkMqtt, checkServe, checkStateDirs, type ProbeContext } from './common.js';
import { linuxChecks, macosChecks, windowsChecks } from './platforms.js';
import { exitCodeOf, osName, Recorder, type DoctorReport } from './report.js';

export type { Check, DoctorReport } from './report.js';
export { exitCodeOf } from './report.js';

/** Run every check for this platform (the desktop's players and mixers, MPD, state, serve, MQTT). */
export async function runDoctor(c: ProbeContext, recordDir?: string): Promise<DoctorReport> {
  const platform = platformOf(c.env);
  const os = osName();
  const rec = new Recorder(recordDir, `${os} (${platform})`);
  const desktop = platform === 'darwin' ? macosChecks(c, rec) : platform === 'win32' ? windowsChecks(c, rec) : linuxChecks(c, rec);
  const [mine, mpd, serve, mqtt] = await Promise.all([desktop, checkMpd(c), checkServe(c), checkMqtt(c)]);
  const checks = [...mine, mpd, ...checkStateDirs(c.env), serve, mqtt];
  return { ok: exitCodeOf(checks) === 0, platform, os, checks, recorded: rec.files };
}
