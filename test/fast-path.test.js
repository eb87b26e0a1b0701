// The fast path (bin/ → manifest → parseArgs → handler, no @oclif/core) and
// the oclif path must give identical output, exit codes and effects for
// every hot command, on success and on error.
import t from 'tap';
import { startMpd } from './helpers/mpd.js';
import { cliEnv, runCli } from './helpers/cli.js';

const stable = (text) => text.replace(/"positionUpdatedAt": "[^"]+"/g, '"positionUpdatedAt": "…"');

t.test('fast path and oclif agree on every hot command', async (t) => {
  const mpd = await startMpd(t);
  const { env } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port), MEDIAGATE_DEBUG_DISPATCH: '1' });
  const reset = () => { mpd.mpc('-q', 'play', '2'); mpd.mpc('-q', 'pause'); mpd.mpc('-q', 'seek', '10'); mpd.mpc('-q', 'volume', '50'); };
  const cases = [
    ['status', '--json'], ['play', 'status', '--player', 'mpd'], ['status', '-p', 'mpd', '--format', '{{title}} {{duration(position)}}'],
    ['play'], ['play', '--json'], ['pause'], ['play', 'pause'], ['toggle', '--json'], ['play', 'toggle'], ['play', 'stop'],
    ['next', '--json'], ['play', 'next'], ['prev'], ['play', 'prev', '--json'],
    ['play', 'seek', '15'], ['play', 'seek', '--json', '-5'], ['play', 'seek', '+3'], ['play', 'seek', '50%', '--player=mpd'],
    ['volume', '--target', 'player', '--json'], ['volume', '-t', 'player', '-5'], ['volume', '--target=player', '+5', '--json'],
    // errors
    ['volume', '150'], ['volume', 'abc'], ['play', 'seek', 'abc'], ['status', '--player', 'nosuch'],
    ['status', '--format', '{{nope}}'], ['play', 'seek', '1:00:00'], ['volume', '--target', 'system'],
  ];
  for (const args of cases) {
    reset();
    const fast = await runCli(args, { env });
    const fastState = mpd.mpc('status');
    reset();
    const slow = await runCli(args, { env: { ...env, MEDIAGATE_NO_FAST_PATH: '1' } });
    const slowState = mpd.mpc('status');
    const name = args.join(' ');
    t.match(fast.stderr, /^dispatch: fast /, `${name}: took the fast path`);
    t.notMatch(slow.stderr, /dispatch: fast/, `${name}: oclif path`);
    t.equal(fast.code, slow.code, `${name}: same exit code (${fast.code})`);
    t.equal(stable(fast.stdout), stable(slow.stdout), `${name}: same stdout`);
    t.equal(fast.stderr.replace(/^dispatch: fast .*\n/, ''), slow.stderr, `${name}: same stderr`);
    t.equal(fastState.replace(/\d+:\d+\/|\(\d+%\)/g, ''), slowState.replace(/\d+:\d+\/|\(\d+%\)/g, ''), `${name}: same effect on MPD`);
  }
});

t.test('help, unknown flags and non-hot commands go to oclif', async (t) => {
  const { env } = cliEnv(t, { MEDIAGATE_DEBUG_DISPATCH: '1' });
  for (const args of [['status', '--help'], ['volume', '--bogus'], ['config', 'list'], ['status', '--player', 'a', '--player', 'b'], ['play', 'seek']]) {
    const r = await runCli(args, { env });
    t.notMatch(r.stderr, /dispatch: fast/, `${args.join(' ')} → oclif`);
  }
  let r = await runCli(['volume', '--bogus'], { env });
  t.equal(r.code, 2, 'unknown flag is a usage error');
  r = await runCli(['play', 'seek'], { env });
  t.equal(r.code, 2, 'missing argument is a usage error');
  r = await runCli(['status', '--help'], { env });
  t.equal(r.code, 0);
  t.match(r.stdout, /--follow/);
});
