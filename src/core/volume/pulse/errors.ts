import { NoPlayerError } from '../../errors.js';
import { commandName, errorName } from './protocol.js';

/**
 * The server could not be talked to: no socket, it closed the connection,
 * or it sent something that is not the protocol. pactl may still manage
 * (another server on the list, a protocol we do not speak), so callers fall
 * back to it. Exit 3, like every unusable backend.
 */
export class PulseTransportError extends NoPlayerError {
  constructor(readonly failure: 'no_server' | 'closed' | 'protocol', message: string, hint?: string) {
    super(message, hint, `volume.pulse_${failure}`);
  }
}

/** The server answered a command with an error (access denied, no such sink…). Final: pactl would be told the same. */
export class PulseRefusedError extends NoPlayerError {
  constructor(readonly command: number, readonly errorCode: number, where: string) {
    const denied = errorCode === 1;
    super(
      denied && command === 8
        ? `PulseAudio at ${where} refused the authentication cookie (access denied)`
        : `PulseAudio at ${where} refused ${commandName(command)}: ${errorName(errorCode)}`,
      denied && command === 8 ? 'mediagate must run as the sound server\'s user, or PULSE_COOKIE must name its cookie file' : undefined,
      denied ? 'volume.pulse_access_denied' : 'volume.backend_failed',
    );
  }
}
