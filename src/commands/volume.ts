import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { ignorePlayerFlag, jsonFlag, playerFlag, remoteFlag } from '../cli/flags.js';

export default class Volume extends BaseCommand {
  static override summary = 'Show or change the volume.';
  static override description = `Without LEVEL prints the volume, 0–100 (more, with a note on stderr, when the sound server was boosted above 100% by another tool). LEVEL is a level from 0 to 100, +N or -N to change it (kept within 0–100; +N from a boosted level leaves it as it is, -N lowers it from the real level), or mute, unmute, toggle-mute. A level outside 0–100 is an error, not silently clamped.

The system mixer is PulseAudio (or PipeWire's pulse server, spoken to natively over its socket: PULSE_SERVER's unix form, else $XDG_RUNTIME_DIR/pulse/native, with the cookie from PULSE_COOKIE or ~/.config/pulse/cookie; pactl for a TCP server or a socket that fails), PipeWire (wpctl) or ALSA (amixer) on Linux, the output volume through osascript on macOS, Core Audio through mediagate's PowerShell helper on Windows; found automatically or set with \`mediagate config set volume.backend pulse|pipewire|alsa|macos|windows|player\`; --target player uses the player's own volume instead. Without a system mixer the player's volume is used. A level set on a sink whose channels differ keeps their balance: the level is the channels' average.

With --target player the answer is the level the player reports after the change; a player that ignores it (VLC without an audio output keeps 0) is exit 3, "the player did not apply the volume change".

--json prints {level, muted, target, backend}.`;
  static override examples = ['<%= config.bin %> volume', '<%= config.bin %> volume 40', '<%= config.bin %> volume +5', '<%= config.bin %> volume -5', '<%= config.bin %> volume toggle-mute', '<%= config.bin %> volume 30 --target player --player mpd'];
  static override args = { level: Args.string({ description: 'LEVEL (0–100), +N, -N, mute, unmute or toggle-mute' }) };
  static override flags = {
    target: Flags.string({ char: 't', description: 'system mixer or the player\'s own volume', options: ['system', 'player'] }),
    player: playerFlag,
    'ignore-player': ignorePlayerFlag,
    remote: remoteFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Volume);
    await this.runHot(flags, args);
  }
}
