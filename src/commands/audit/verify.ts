import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { auditVerify } from '../../cli/handlers/audit.js';

export default class AuditVerify extends BaseCommand {
  static override summary = 'Check that the audit log is complete and unaltered.';
  static override description = `Walks every audit file in order and checks the hash chain and the head record. Exit 0 only when the whole chain holds; otherwise exit 1, naming the first bad line (file:line and seq) and the kind of damage: edited, deleted, reordered, inserted, truncated (lines cut from the end, or a torn last line), malformed, or head_rebuilt: the head record (audit.head) was missing or unreadable and a writer rebuilt it from the last remaining line, so a cut tail cannot be ruled out. head_rebuilt keeps failing until you check the log and run: mediagate audit verify --acknowledge (on this machine), which records an audit.acknowledged event.

--json prints {ok, count, files, lastSeq, lastHash, notes} or {ok:false, count, files, firstBadLine:{file, line, seq}, kind, reason}. notes counts events the log wrote about itself (dropped events under a flood, repairs after a crash), which deserve a look: mediagate audit --actor system:audit. The chain has no secret key: keeping lastHash somewhere else lets you check later that nobody rewrote the whole log.`;
  static override examples = ['<%= config.bin %> audit verify', '<%= config.bin %> audit verify --json', '<%= config.bin %> audit verify --acknowledge'];
  static override flags = {
    acknowledge: Flags.boolean({ description: 'accept a rebuilt head record (head_rebuilt) after checking the log; other damage is still reported. Local only', default: false }),
    remote: remoteFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AuditVerify);
    await this.handle(flags.json, (ctx) => auditVerify(ctx, { acknowledge: flags.acknowledge }), flags.remote);
  }
}
