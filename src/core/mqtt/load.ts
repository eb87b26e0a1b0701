/**
 * MQTT.js, loaded on first use only: `serve` with `mqtt.url` set and the
 * fleet commands pay for it; no other command does. From the fast path (one
 * CommonJS bundle) it is require()d: its CommonJS build loads in about half
 * the time the ES module loader takes for it on Node 20.
 */
import type * as Mqtt from 'mqtt';

export type MqttModule = typeof Mqtt;
export type MqttClient = Mqtt.MqttClient;

let loaded: Promise<MqttModule> | undefined;

export function loadMqtt(): Promise<MqttModule> {
  loaded ??= typeof require === 'function'
    ? Promise.resolve(require('mqtt') as MqttModule)
    : import('mqtt').then((m) => m as unknown as MqttModule);
  return loaded;
}
