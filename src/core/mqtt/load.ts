/**
 * MQTT.js, loaded on first use only: `serve` with `mqtt.url` set and the
 * fleet commands pay for it; no other command does (it costs ~100 ms of
 * start-up).
 */
import type * as Mqtt from 'mqtt';

export type MqttModule = typeof Mqtt;
export type MqttClient = Mqtt.MqttClient;

let loaded: Promise<MqttModule> | undefined;

export function loadMqtt(): Promise<MqttModule> {
  loaded ??= import('mqtt').then((m) => m as unknown as MqttModule);
  return loaded;
}
