// A real nginx in front of a real serve, for sub-path deployments: its
// config, pid file, logs and temp dirs in a private temp dir, listening on
// 127.0.0.1 and a port chosen beforehand (the serve it proxies to must know
// its public URL before it starts). `/PREFIX/` is proxied to the serve with
// the prefix stripped (proxy_pass with a trailing slash, the usual setup),
// WebSocket upgrades included; `/other/` is another application on the same
// host that echoes the Cookie header it receives (to show the remote's
// cookie does not reach it). Stopped by PID when `t` ends.
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './mpd.js';
import { startDaemon, tempDir, waitFor } from './proc.js';

export const NGINX = '/usr/sbin/nginx';

/** A port for nginx, known before the serve it fronts starts. */
export const nginxPort = () => freePort();

/**
 * Start nginx on `port` proxying `/${prefix}/` to `upstream` (http://127.0.0.1:N).
 * Resolves {url, port, pid, log(), stop()} once it answers.
 */
export async function startNginx(t, { port, upstream, prefix = 'mediagate' }) {
  const dir = tempDir(t, 'mg-nginx-');
  for (const d of ['tmp', 'logs']) mkdirSync(join(dir, d));
  const up = new URL(upstream);
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} info;
events { worker_connections 256; }
http {
  access_log ${join(dir, 'logs', 'access.log')};
  client_body_temp_path ${join(dir, 'tmp', 'body')};
  proxy_temp_path ${join(dir, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(dir, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(dir, 'tmp', 'scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port};
    location /${prefix}/ {
      proxy_pass http://${up.host}/;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 3600s;
      proxy_buffering off;
    }
    location /other/ {
      default_type text/plain;
      return 200 "cookie=[$http_cookie]";
    }
  }
}
`;
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const d = startDaemon(NGINX, ['-p', dir, '-c', file, '-e', join(dir, 'logs', 'error.log')], { logFile: join(dir, 'logs', 'stdout.log') });
  t.teardown(() => d.stop());
  const url = `http://127.0.0.1:${port}`;
  const log = () => { try { return readFileSync(join(dir, 'logs', 'error.log'), 'utf8'); } catch { return ''; } };
  await waitFor(async () => {
    if (d.child.exitCode !== null) throw new Error(`nginx exited (${d.child.exitCode}):\n${log()}`);
    try { return (await fetch(`${url}/other/`)).status === 200; } catch { return false; }
  }, { timeoutMs: 15000, what: 'nginx answering' });
  return { url, port, pid: d.pid, log, stop: () => d.stop(), prefixUrl: `${url}/${prefix}` };
}
