// Looking inside a running `serve` started with --inspect=127.0.0.1:0 (through
// NODE_OPTIONS): force a full garbage collection and read its memory
// figures, so "memory back to baseline" compares live heaps after GC rather
// than whatever the collector happened to leave lying around. Test-only: the
// inspector listens on loopback for the life of that test's server.
import WebSocket from 'ws';

/** NODE_OPTIONS entry that makes a child listen for the inspector on a free loopback port. */
export const INSPECT_OPTION = '--inspect=127.0.0.1:0';

/** The inspector's WebSocket URL from the child's stderr. */
export function inspectorUrl(stderr) {
  return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(stderr)?.[1];
}

/** A session on the inspector: call(method, params) → result. */
export async function openInspector(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let next = 1;
  const waiting = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.error) w.reject(new Error(msg.error.message)); else w.resolve(msg.result);
  });
  const call = (method, params = {}) => new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve, reject });
    ws.send(JSON.stringify({ id, method, params }));
  });
  return {
    call,
    /** Full GC, then process.memoryUsage() of the child (bytes). */
    async memoryAfterGc() {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
      const r = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
      return JSON.parse(r.result.value);
    },
    close() { ws.close(); },
  };
}
