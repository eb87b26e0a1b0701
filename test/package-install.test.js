// The package as users get it: `npm pack`, `npm install -g` of the tarball
// into an empty prefix (dependencies from the local npm cache), then the
// installed `mediagate` — --version, status against a real MPD, serve with
// its web remote, man pages, completion and the service unit — run from
// there, outside the repository.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { ROOT, cliEnv } from './helpers/cli.js';
import { startMpd } from './helpers/mpd.js';
import { tempDir } from './helpers/proc.js';

t.setTimeout(600_000);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

function npm(args, cwd) {
  return spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 400_000 });
}

/** `npm install -g --prefix PREFIX TARBALL`, from the cache alone when it holds everything. */
function installGlobal(t, tarball, prefix, cwd) {
  const common = ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball];
  const started = Date.now();
  let r = npm([...common, '--offline'], cwd);
  let how = 'offline, from the npm cache';
  if (r.status !== 0 && /ENOTCACHED/.test(r.stderr)) {
    // The cache lacks some package metadata: let npm ask the registry for what is missing.
    r = npm([...common, '--prefer-offline'], cwd);
    how = 'prefer-offline (the cache lacked some metadata)';
  }
  t.comment(`npm install -g: ${how}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return r;
}

function runInstalled(bin, args, env, input) {
  return spawnSync(bin, args, { env, encoding: 'utf8', input: input ?? '', timeout: 30_000 });
}

t.test('npm pack → npm install -g into an empty prefix → it runs from there', async (t) => {
  const work = tempDir(t, 'mg-pack-');
  const packed = npm(['pack', '--json', '--pack-destination', work], ROOT);
  t.equal(packed.status, 0, packed.stderr);
  const info = JSON.parse(packed.stdout)[0];
  const files = new Set(info.files.map((f) => f.path));
  for (const f of ['bin/run.cjs', 'dist/fast.cjs', 'dist/fast-manifest.json', 'dist/dbus-next.cjs', 'oclif.manifest.json', 'dist/web/index.html', 'dist/web/assets.json',
    'man/man1/mediagate.1', 'man/man1/mediagate-serve.1', 'man/man1/mediagate-service-install.1', 'man/man1/mediagate-completion.1', 'README.md']) {
    t.ok(files.has(f), `the tarball holds ${f}`);
  }
  t.notOk([...files].some((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('bench/')), 'no tests, sources or benches');
  t.comment(`tarball ${info.filename}: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} KiB`);

  const prefix = join(work, 'prefix');
  const installed = installGlobal(t, join(work, info.filename), prefix, work);
  t.equal(installed.status, 0, installed.stderr);
  const bin = join(prefix, 'bin', 'mediagate');
  const root = join(prefix, 'lib', 'node_modules', 'mediagate');
  t.equal(realpathSync(bin), join(root, 'bin', 'run.cjs'), 'PREFIX/bin/mediagate is the package\'s bin');

  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play');
  const { env: base } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  const env = { ...base, PATH: `${join(prefix, 'bin')}:${base.PATH}` };

  const v = runInstalled(bin, ['--version'], env);
  t.equal(v.status, 0, v.stderr);
  t.match(v.stdout, new RegExp(`^mediagate/${pkg.version.replaceAll('.', '\\.')} `));

  const s = runInstalled(bin, ['status', '--json'], env);
  t.equal(s.status, 0, s.stderr);
  t.match(JSON.parse(s.stdout), { player: 'mpd', status: 'playing', title: 'SineA' });

  const c = runInstalled(bin, ['completion', 'words', '--shell', 'bash'], { ...env, MEDIAGATE_DEBUG_DISPATCH: '1' }, 'sta\n');
  t.equal(c.stdout, 'status\n', 'completion reads the installed manifest');
  t.match(c.stderr, /dispatch: fast/);

  const unit = runInstalled(bin, ['service', 'install', '--print'], env);
  t.equal(unit.status, 0, unit.stderr);
  t.match(unit.stdout, new RegExp(`^ExecStart=${process.execPath} ${root}/bin/run\\.cjs serve$`, 'm'), 'the unit runs the installed package');

  for (const page of ['mediagate', 'mediagate-serve', 'mediagate-service-install', 'mediagate-completion']) {
    t.ok(existsSync(join(prefix, 'share', 'man', 'man1', `${page}.1`)), `man page ${page} installed`);
  }
  const man = spawnSync('man', ['-w', 'mediagate-service-install'], { env: { ...env, MANPATH: join(prefix, 'share', 'man') }, encoding: 'utf8' });
  t.equal(man.status, 0, `man finds it: ${man.stderr}`);

  // serve from the installed package: the API and the web remote's assets.
  const child = spawn(bin, ['serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let err = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${err}`)), 30_000);
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}:\n${err}`)); });
  });
  const token = /^\s+(mg_[A-Za-z0-9_-]{43})\s*$/m.exec(err)?.[1];
  t.ok(token, 'first start printed an admin token');
  const get = async (path, headers = {}) => {
    const r = await request(`${url}${path}`, { headers });
    return { status: r.statusCode, type: r.headers['content-type'], text: await r.body.text() };
  };
  t.equal((await get('/api/health')).status, 200);
  const st = await get('/api/status', { authorization: `Bearer ${token}` });
  t.equal(st.status, 200);
  t.match(JSON.parse(st.text), { title: 'SineA' });
  const page = await get('/');
  t.equal(page.status, 200);
  t.match(page.type, /text\/html/);
  // Pages use relative URLs (sub-path deployments): src="assets/…".
  const assets = [...page.text.matchAll(/(?:src|href)="(?:\.?\/)?(assets\/[^"]+)"/g)].map((m) => `/${m[1]}`);
  t.ok(assets.length >= 2, `the page loads assets: ${assets}`);
  for (const a of assets) t.equal((await get(a)).status, 200, `asset ${a}`);
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('exit', r));
  t.equal(code, 0, 'serve stops cleanly on SIGTERM');
});
