// The native PulseAudio client against pipewire-pulse (PipeWire +
// WirePlumber on a private session bus, two-channel null sink), with the
// same checks as against PulseAudio (test/helpers/pulse-suite.js).
import t from 'tap';
import { startPipewire } from './helpers/pipewire.js';
import { nativeSuite } from './helpers/pulse-suite.js';

nativeSuite(t, 'pipewire-pulse', (t) => startPipewire(t, { pulse: true }));
