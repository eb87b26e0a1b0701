#!/usr/bin/env node
// `npm run test:node-legs` (the second half of `npm test`): the hot-path,
// serve and security-core test files (NODE_LEG_FILES) run again on each other
// Node major (NODE_LEG_MAJORS) — the test file itself on that Node, so the
// CLI and serve it spawns (process.execPath) are that Node too. Two files at
// a time, as tap runs the suite. Each file's TAP stream is saved under
// .tap/test-results/node-<major>/ beside tap's own results, so CI's count
// includes the legs. A major that is not installed (npm run
// install:node-versions) is a failure, not a skip: CI must not pass quietly
// without the legs. Exit 1 when anything failed.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_LEG_FILES, NODE_LEG_MAJORS, nodeBinary } from '../test/helpers/node-versions.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const JOBS = 2;
// The per-file limit tap's config gives the suite (package.json "tap".timeout),
// which a file run on its own only learns from TAP_TIMEOUT (else 30 s).
const TAP_TIMEOUT_S = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).tap?.timeout ?? 120;
const KILL_MS = (TAP_TIMEOUT_S + 30) * 1000; // a file that hangs past its own limit

const argv = process.argv.slice(2);
const majors = argv.filter((a) => /^\d+$/.test(a)).map(Number);
const files = argv.filter((a) => !/^\d+$/.test(a));

/** Run one test file on `node`; its TAP goes to `out`. Resolves {ok, pass, fail, ms, stderr}. */
function runFile(node, file, out) {
  return new Promise((resolve) => {
    mkdirSync(dirname(out), { recursive: true });
    const started = Date.now();
    const sink = createWriteStream(out);
    const child = spawn(node, [file], { cwd: ROOT, env: { ...process.env, TAP: '1' /* raw TAP on stdout, no reporter */, TAP_TIMEOUT: String(TAP_TIMEOUT_S) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let stderr = '';
    child.stdout.on('data', (d) => { text += d; sink.write(d); });
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    const timer = setTimeout(() => { stderr += `\nkilled after ${KILL_MS / 1000} s`; child.kill('SIGKILL'); }, KILL_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      sink.end();
      let pass = 0;
      let fail = 0;
      for (const line of text.split('\n')) {
        const m = /^\s*(not ok|ok) \d+(.*)$/.exec(line);
        if (!m || /# time=/.test(m[2]) || /#\s*(SKIP|TODO)/i.test(m[2])) continue;
        if (m[1] === 'ok') pass++; else fail++;
      }
      const failures = text.split('\n').filter((l) => /^\s*not ok /.test(l) && !/# time=/.test(l));
      resolve({ ok: code === 0 && !signal && fail === 0, pass, fail, failures, ms: Date.now() - started, stderr });
    });
  });
}

async function leg(major) {
  const bin = nodeBinary(major);
  const dir = join(ROOT, '.tap', 'test-results', `node-${major}`);
  if (!bin) {
    const out = join(dir, 'missing.tap');
    mkdirSync(dir, { recursive: true });
    createWriteStream(out).end(`not ok 1 - Node ${major} is not installed: run npm run install:node-versions\n1..1\n`);
    console.log(`not ok - Node ${major} is not installed (npm run install:node-versions)`);
    return false;
  }
  console.log(`# Node ${bin.version} (${bin.path})`);
  const queue = [...(files.length ? files : NODE_LEG_FILES)];
  let allOk = true;
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const r = await runFile(bin.path, file, join(dir, `${file}.tap`));
      allOk &&= r.ok;
      console.log(`${r.ok ? 'ok' : 'not ok'} - Node ${major} ${file}: ${r.pass} passed, ${r.fail} failed (${(r.ms / 1000).toFixed(1)} s)`);
      if (!r.ok) {
        for (const l of r.failures.slice(0, 20)) console.log(`    ${l.trim()}`);
        if (r.stderr.trim()) console.log(r.stderr.trim().split('\n').map((l) => `    ${l}`).join('\n'));
      }
    }
  };
  await Promise.all(Array.from({ length: JOBS }, worker));
  return allOk;
}

let ok = true;
for (const major of majors.length ? majors : NODE_LEG_MAJORS) ok = (await leg(major)) && ok;
process.exitCode = ok ? 0 : 1;
