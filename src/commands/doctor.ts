import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { jsonFlag } from '../cli/flags.js';

export default class Doctor extends BaseCommand {
  static override summary = 'Check what mediagate can use here, why not, and the fix.';
  static override description = `Looks at everything mediagate needs on this machine and says what it found: on Linux the D-Bus session bus, the MPRIS players and each mixer (PulseAudio, PipeWire, ALSA); on macOS media-control (and whether its test passes), AppleScript for Music and Spotify (the Automation permission) and the system volume; on Windows PowerShell 5.1, mediagate's helper, the media sessions and the Core Audio volume; everywhere MPD, the config and state dirs' permissions, a running serve (the state dir's serve.json and its /api/health) and the MQTT broker when mqtt.url is set. Each problem comes with why and the fix.

Exit 0 when mediagate can control media here (at least one player backend works), 3 when none does, 5 when the config or state dir is unsafe.

--record DIR writes the raw output of every probe (one JSON file each: tool, argv, exit code, stdout, stderr, and the OS it ran on) into DIR, in the form of the test fixtures: a person on a Mac or a PC can contribute them (look through them first: they hold the titles that were playing).

--json prints {ok, platform, os, checks: [{id, area, name, status (ok|warn|fail|skip), found, why?, fix?}], recorded}.`;
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json', '<%= config.bin %> doctor --record ./captures'];
  static override flags = {
    record: Flags.string({ description: 'also write the raw output of each probe into this directory, as test fixtures', helpValue: 'DIR' }),
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    const { doctor } = await import('../cli/handlers/doctor.js');
    await this.handle(flags.json, (ctx) => doctor(ctx, flags));
  }
}
