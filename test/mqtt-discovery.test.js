// The Home Assistant discovery payloads, checked field by field against Home
// Assistant's documented MQTT device-discovery schema (the MQTT integration
// page: "Device discovery payload", "Supported abbreviations", the device
// registry and origin abbreviations, and the pages of the sensor, number,
// switch, button, image and select platforms). The tables below are written
// from that documentation; a payload key that is not a documented field (or
// its documented abbreviation) of its platform, a missing required field, a
// wrong type or an unknown enum value fails.
import t from 'tap';
import { deviceTopic, machineDevice, playerDevice, withRemovals } from '../dist/server/mqtt/discovery.js';
import { NodeTopics } from '../dist/core/mqtt/topics.js';

/** Documented abbreviations used by mediagate (a subset of the documentation's list) → full field names. */
const ABBREVIATIONS = {
  avty_t: 'availability_topic', pl_avail: 'payload_available', pl_not_avail: 'payload_not_available',
  cmd_t: 'command_topic', stat_t: 'state_topic', val_tpl: 'value_template', json_attr_t: 'json_attributes_topic',
  json_attr_tpl: 'json_attributes_template', uniq_id: 'unique_id', dev_cla: 'device_class', ops: 'options',
  ic: 'icon', pl_prs: 'payload_press', pl_on: 'payload_on', pl_off: 'payload_off', img_t: 'image_topic',
  cont_type: 'content_type', unit_of_meas: 'unit_of_measurement', cmps: 'components', dev: 'device', o: 'origin',
  p: 'platform', obj_id: 'object_id', ent_cat: 'entity_category', en: 'enabled_by_default', e: 'encoding',
  mode: 'mode', min: 'min', max: 'max', step: 'step', name: 'name',
};
/** Device registry abbreviations. */
const DEVICE_ABBREVIATIONS = { cu: 'configuration_url', cns: 'connections', ids: 'identifiers', name: 'name', mf: 'manufacturer', mdl: 'model', mdl_id: 'model_id', hw: 'hw_version', sw: 'sw_version', sa: 'suggested_area', sn: 'serial_number', via_device: 'via_device' };
/** Origin abbreviations. */
const ORIGIN_ABBREVIATIONS = { name: 'name', sw: 'sw_version', url: 'support_url' };

/** Shared options allowed at the root of a device discovery payload (besides device and origin, which are required). */
const ROOT_FIELDS = new Set(['device', 'origin', 'components', 'availability', 'availability_topic', 'availability_mode', 'availability_template', 'payload_available', 'payload_not_available', 'command_topic', 'state_topic', 'qos', 'encoding']);

/** Fields every entity platform documents (availability, device context, naming, …). */
const ENTITY_COMMON = ['platform', 'availability', 'availability_topic', 'availability_mode', 'availability_template', 'payload_available', 'payload_not_available',
  'device', 'enabled_by_default', 'encoding', 'entity_category', 'icon', 'json_attributes_template', 'json_attributes_topic', 'name', 'object_id', 'unique_id', 'qos', 'default_entity_id'];

/** Per platform: its documented fields, the required ones, and value checks. */
const PLATFORMS = {
  sensor: {
    fields: ['state_topic', 'value_template', 'device_class', 'state_class', 'unit_of_measurement', 'options', 'expire_after', 'force_update', 'last_reset_value_template', 'suggested_display_precision'],
    required: ['state_topic'],
    check(c, t) {
      if (c.device_class === 'enum') t.ok(Array.isArray(c.options) && c.options.length > 0 && c.options.every((o) => typeof o === 'string'), 'an enum sensor lists its options');
      else t.equal(c.options, undefined, 'options only with device_class enum');
    },
  },
  number: {
    fields: ['command_topic', 'command_template', 'state_topic', 'value_template', 'min', 'max', 'step', 'mode', 'unit_of_measurement', 'device_class', 'optimistic', 'payload_reset', 'retain'],
    required: ['command_topic'],
    check(c, t) {
      t.ok(['auto', 'box', 'slider'].includes(c.mode ?? 'auto'), 'number mode is auto, box or slider');
      t.ok(c.min < c.max, 'min below max');
      t.ok(c.step > 0, 'a positive step');
    },
  },
  switch: {
    fields: ['command_topic', 'command_template', 'state_topic', 'value_template', 'payload_on', 'payload_off', 'state_on', 'state_off', 'optimistic', 'device_class', 'retain'],
    required: ['command_topic'],
  },
  button: {
    fields: ['command_topic', 'command_template', 'payload_press', 'device_class', 'retain'],
    required: ['command_topic'],
  },
  image: {
    fields: ['image_topic', 'url_topic', 'url_template', 'content_type', 'image_encoding'],
    required: [],
    check(c, t) {
      t.ok(Boolean(c.image_topic) !== Boolean(c.url_topic), 'exactly one of image_topic and url_topic');
      if (c.content_type !== undefined) t.match(c.content_type, /^image\/(jpeg|png|gif|webp)$/, 'an image content type');
      t.equal(c.image_encoding, undefined, 'raw bytes (no b64 encoding)');
    },
  },
  select: {
    fields: ['command_topic', 'command_template', 'state_topic', 'value_template', 'options', 'optimistic', 'retain'],
    required: ['command_topic', 'options'],
    check(c, t) { t.ok(Array.isArray(c.options) && c.options.length > 0, 'a select has options'); },
  },
};

const TOPIC_FIELDS = /_topic$/;

function expand(obj, table, t, where) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    const full = table[k] ?? (Object.values(table).includes(k) ? k : undefined);
    t.ok(full, `${where}: '${k}' is a documented field or abbreviation`);
    t.notOk(full in out, `${where}: '${full}' given once`);
    out[full ?? k] = v;
  }
  return out;
}

function checkDevicePayload(t, payload, topics, label) {
  const root = expand(payload, ABBREVIATIONS, t, `${label} root`);
  for (const k of Object.keys(root)) t.ok(ROOT_FIELDS.has(k), `${label}: '${k}' is allowed at the root of a device discovery payload`);
  t.type(root.device, 'object', `${label}: device (dev) is required`);
  t.type(root.origin, 'object', `${label}: origin (o) is required`);
  const dev = expand(root.device ?? {}, DEVICE_ABBREVIATIONS, t, `${label} device`);
  t.ok(Array.isArray(dev.identifiers) && dev.identifiers.length > 0 && dev.identifiers.every((i) => typeof i === 'string'), `${label}: device identifiers`);
  t.type(dev.name, 'string', `${label}: device name`);
  const origin = expand(root.origin ?? {}, ORIGIN_ABBREVIATIONS, t, `${label} origin`);
  t.type(origin.name, 'string', `${label}: origin name is required`);
  t.equal(root.availability_topic, topics.availability, `${label}: availability is the node's availability topic`);
  t.equal(root.payload_available, 'online');
  t.equal(root.payload_not_available, 'offline');
  t.type(root.components, 'object', `${label}: components (cmps)`);
  const ids = new Set();
  for (const [key, raw] of Object.entries(root.components)) {
    t.match(key, /^[a-zA-Z0-9_-]+$/, `${label}: component id '${key}'`);
    const c = expand(raw, ABBREVIATIONS, t, `${label} ${key}`);
    const spec = PLATFORMS[c.platform];
    t.ok(spec, `${label} ${key}: platform '${c.platform}' is one mediagate uses and Home Assistant has over MQTT`);
    if (!spec) continue;
    const allowed = new Set([...ENTITY_COMMON, ...spec.fields]);
    for (const k of Object.keys(c)) t.ok(allowed.has(k), `${label} ${key}: '${k}' is a documented ${c.platform} field`);
    for (const r of spec.required) t.ok(c[r] !== undefined, `${label} ${key}: required '${r}'`);
    t.type(c.unique_id, 'string', `${label} ${key}: entity components need a unique_id`);
    t.notOk(ids.has(c.unique_id), `${label} ${key}: unique_id is unique`);
    ids.add(c.unique_id);
    for (const [k, v] of Object.entries(c)) {
      if (!TOPIC_FIELDS.test(k)) continue;
      t.ok(typeof v === 'string' && v.startsWith(`${topics.root}/`) && !/[+#]/.test(v), `${label} ${key}: ${k} is one of the node's own topics, no wildcard`);
    }
    if (c.command_topic !== undefined) t.match(c.command_topic, /\/set$/, `${label} ${key}: commands go to a …/set topic`);
    spec.check?.(c, t);
  }
  return root;
}

t.test('the machine device, field by field', async (t) => {
  const topics = new NodeTopics('mediagate', 'kitchen');
  const p = machineDevice({ topics, deviceId: '0123456789abcdef', playerIds: ['mpd', 'mpv'], artworkType: 'image/png' });
  const root = checkDevicePayload(t, JSON.parse(JSON.stringify(p)), topics, 'machine');
  t.same(Object.keys(root.components).sort(), ['active_player', 'artwork', 'mute', 'next', 'now_playing', 'play_pause', 'previous', 'status', 'stop', 'volume'],
    'now playing, status, volume, mute, play/pause, next, previous, stop, artwork and the active-player select');
  const c = (k) => expand(root.components[k], ABBREVIATIONS, t, k);
  t.match(c('now_playing').value_template, /\[:255\]/, 'the title is cut to 255 characters');
  t.equal(c('now_playing').json_attributes_topic, topics.activeState, 'the rest as attributes');
  t.same(c('status').options, ['playing', 'paused', 'stopped', 'idle']);
  t.match(c('volume'), { min: 0, max: 100, mode: 'slider', command_topic: topics.volumeSet });
  t.match(c('mute'), { command_topic: topics.muteSet, payload_on: 'ON', payload_off: 'OFF' });
  t.equal(c('artwork').image_topic, topics.activeArtwork);
  t.same(c('active_player').options, ['mpd', 'mpv']);
  t.equal(deviceTopic('homeassistant', '0123456789abcdef'), 'homeassistant/device/mediagate_0123456789abcdef/config', 'one retained config topic per machine');
  t.same(JSON.parse(JSON.stringify(p)).dev.ids, ['mediagate_0123456789abcdef'], 'identified by the device id, not the host name');
});

t.test('a player device, and removal stubs', async (t) => {
  const topics = new NodeTopics('mediagate', 'kitchen');
  const p = playerDevice(topics, '0123456789abcdef', 'mpv', 'mpv.instance42', 'image/jpeg');
  checkDevicePayload(t, JSON.parse(JSON.stringify(p)), topics, 'player');
  t.equal(p.dev.via_device, 'mediagate_0123456789abcdef', 'attached to the machine device');
  // Without players the select goes: the next payload carries its removal stub {"p": "select"}.
  const before = machineDevice({ topics, deviceId: '0123456789abcdef', playerIds: ['mpd'], artworkType: undefined });
  const after = machineDevice({ topics, deviceId: '0123456789abcdef', playerIds: [], artworkType: undefined });
  const stubbed = withRemovals(before, after);
  t.same(stubbed.cmps.active_player, { p: 'select' }, 'a removed component is sent once as {"p": platform}, as the documentation says');
  t.equal(after.cmps.active_player, undefined, 'and then left out');
  t.equal(withRemovals(after, after), after, 'nothing removed: the payload as it is');
});

t.test('the schema check itself refuses what Home Assistant would not take', async (t) => {
  // The denied twin of the checks above: a payload with an undocumented field, a missing
  // command topic and no origin fails them (run in a sub-test whose failures are expected).
  const topics = new NodeTopics('mediagate', 'kitchen');
  const bad = JSON.parse(JSON.stringify(machineDevice({ topics, deviceId: '0123456789abcdef', playerIds: ['mpd'], artworkType: undefined })));
  delete bad.o;
  bad.cmps.volume.speed = 3;
  delete bad.cmps.next.cmd_t;
  const failures = [];
  const probe = { ok: (v, m) => { if (!v) failures.push(m); }, notOk: (v, m) => { if (v) failures.push(m); }, type: (v, ty, m) => { if (typeof v !== ty) failures.push(m); },
    equal: (a, b, m) => { if (a !== b) failures.push(m); }, match: (a, re, m) => { if (!(re instanceof RegExp ? re.test(a) : true)) failures.push(m); }, same: () => {} };
  checkDevicePayload(probe, bad, topics, 'bad');
  t.ok(failures.some((m) => /origin \(o\) is required/.test(m)), 'a missing origin is caught');
  t.ok(failures.some((m) => /'speed' is a documented field/.test(m)), 'an undocumented field is caught');
  t.ok(failures.some((m) => /next: required 'command_topic'/.test(m)), 'a missing required field is caught');
});
