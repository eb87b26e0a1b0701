#!/usr/bin/env node
// Build the web remote (src/web) into dist/web/, which `mediagate serve`
// loads into memory at start (src/server/web.ts):
//
//   - type-check src/web (its own tsconfig: DOM types, no emit);
//   - bundle connect.ts and remote.ts (esbuild, ESM, minified) and minify
//     style.css; generate the icons, the placeholder cover and the silent
//     clip (scripts/web-art.js);
//   - name every asset by its content hash (assets/NAME.HASH.EXT: cached
//     for a year, immutable) and fill those names into the two pages and the
//     web app manifest;
//   - refuse a page with inline script or style (the page CSP would block
//     it anyway: fail here, not in the browser);
//   - write a gzip variant of each file when it is smaller, and
//     dist/web/assets.json listing path, file, type and cache class.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ACCENT, coverSvg, iconPng, iconSvg, silenceWav } from './web-art.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/web');
const out = join(root, 'dist/web');

const TYPES = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  wav: 'audio/wav',
  html: 'text/html; charset=utf-8',
  webmanifest: 'application/manifest+json',
};

if (!process.argv.includes('--no-check')) {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', src], { stdio: 'inherit' });
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const entries = []; // assets.json rows
const names = {}; // logical name → URL path

function hashOf(buf) {
  return createHash('sha256').update(buf).digest('hex').slice(0, 12);
}

function emit(path, file, body, cache) {
  const ext = file.slice(file.lastIndexOf('.') + 1);
  writeFileSync(join(out, file), body);
  const row = { path, file, type: TYPES[ext], cache };
  // Only hashed assets are ever sent compressed (src/server/web.ts: BREACH); pages and the manifest get no variant.
  if (cache === 'immutable' && !/^(png|wav)$/.test(ext)) {
    const gz = gzipSync(body, { level: 9 });
    if (gz.length < body.length) {
      writeFileSync(join(out, `${file}.gz`), gz);
      row.gzip = `${file}.gz`;
    }
  }
  entries.push(row);
}

function asset(name, body) {
  const dot = name.lastIndexOf('.');
  const file = `assets/${name.slice(0, dot)}.${hashOf(body)}${name.slice(dot)}`;
  emit(`/${file}`, file, body, 'immutable');
  // Pages and the manifest refer to it relatively (assets/…): the remote works under any sub-path.
  names[name] = file;
}

asset('icon.svg', Buffer.from(iconSvg()));
asset('icon-192.png', iconPng(192));
asset('icon-512.png', iconPng(512));
asset('cover.svg', Buffer.from(coverSvg()));
asset('silence.wav', silenceWav(1));

const bundled = await build({
  entryPoints: { connect: join(src, 'connect.ts'), remote: join(src, 'remote.ts'), style: join(src, 'style.css') },
  bundle: true,
  format: 'esm',
  target: ['es2020', 'chrome93', 'safari15', 'firefox92'],
  minify: true,
  legalComments: 'none',
  write: false,
  outdir: 'out',
  logLevel: 'warning',
});
for (const f of bundled.outputFiles) {
  const base = f.path.slice(f.path.lastIndexOf('/') + 1);
  asset(base, Buffer.from(f.contents));
}

const manifest = {
  // Relative to the manifest's own URL, so a sub-path deployment is its own app.
  id: './',
  name: 'mediagate remote',
  short_name: 'mediagate',
  description: 'Control the music playing on your mediagate server.',
  start_url: './',
  scope: './',
  display: 'standalone',
  orientation: 'any',
  background_color: '#16171b',
  theme_color: ACCENT,
  icons: [
    { src: names['icon.svg'], sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
    { src: names['icon-192.png'], sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: names['icon-512.png'], sizes: '512x512', type: 'image/png', purpose: 'any' },
    { src: names['icon-512.png'], sizes: '512x512', type: 'image/png', purpose: 'maskable' },
  ],
};
emit('/manifest.webmanifest', 'manifest.webmanifest', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 'manifest');

/** Fill {{name}} with hashed asset paths; refuse inline script or style. */
function page(template, path, file) {
  const html = readFileSync(join(src, template), 'utf8').replace(/\{\{([\w.-]+)\}\}/g, (_, n) => {
    if (!names[n]) throw new Error(`${template}: unknown asset {{${n}}}`);
    return names[n];
  });
  const inline = [
    [/<script(?![^>]*\bsrc=)[^>]*>/i, 'a <script> without src'],
    [/<style[\s>]/i, 'a <style> element'],
    [/\sstyle\s*=/i, 'a style attribute'],
    [/\son[a-z]+\s*=/i, 'an on… event attribute'],
    [/javascript:/i, 'a javascript: URL'],
  ];
  for (const [re, what] of inline) if (re.test(html)) throw new Error(`${template}: ${what} (the page CSP forbids inline script and style)`);
  emit(path, file, Buffer.from(html), 'page');
}
page('index.html', '/', 'index.html');
page('connect.html', '/connect', 'connect.html');

writeFileSync(join(out, 'assets.json'), `${JSON.stringify({ files: entries }, null, 2)}\n`);
const firstLoad = (p) => entries.filter((e) => p.includes(e.path)).reduce((n, e) => n + readFileSync(join(out, e.gzip ?? e.file)).length, 0);
const remoteLoad = firstLoad(['/', '/manifest.webmanifest', ...['style.css', 'remote.js', 'icon.svg', 'cover.svg'].map((n) => `/${names[n]}`)]);
process.stderr.write(`web remote: ${entries.length} files in dist/web; the remote page and what it loads at once: ${(remoteLoad / 1024).toFixed(1)} KiB (gzip where smaller)\n`);
