import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { jsonFlag } from '../cli/flags.js';

export default class Nodes extends BaseCommand {
  static override summary = 'List the mediagate nodes on the MQTT broker, with what each is playing.';
  static override description = `Every machine whose \`mediagate serve\` runs the MQTT bridge (config mqtt.url) announces itself on the broker; this lists them from their retained topics: node, online or offline, the active player, its status, the volume and what is playing. It connects with the same mqtt.* config as the bridge. Act on one with --node NAME on any play or volume command (mediagate --node kitchen pause), or on all online ones with --node all.

--json prints [{node, online, volume, muted, active, nowPlaying: {id, player, status, title, artist, album} | null, players: [{id, player, status, title, artist}]}]. --follow prints a line (an object with --json) for every node that changes, pushed by the broker, until interrupted.

Exit codes: 6 when the broker cannot be reached (or its TLS certificate is not accepted), 4 when it refuses the login or this user may not read the nodes' topics, 5 when mqtt.url is not set.`;
  static override examples = ['<%= config.bin %> nodes', '<%= config.bin %> nodes --json', '<%= config.bin %> nodes --follow', '<%= config.bin %> --node kitchen pause', '<%= config.bin %> volume 30 --node all'];
  static override flags = {
    follow: Flags.boolean({ char: 'F', description: 'print a line for every node that changes until interrupted' }),
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Nodes);
    await this.runHot(flags);
  }
}
