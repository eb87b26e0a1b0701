/**
 * GET /api/mqtt (admin): whether the MQTT bridge is connected, to which
 * broker (the URL never holds credentials), as which node, the last error
 * and how many messages it sent. GET /api/health stays minimal.
 */
import type { ApiRoute, Call } from './types.js';

function status(c: Call) {
  const s = c.app.mqttStatus();
  return s === null ? { enabled: false } : { enabled: true, ...s };
}

export const MQTT_ROUTES: ApiRoute[] = [
  { method: 'GET', path: '/api/mqtt', scope: 'admin', handler: status },
];
