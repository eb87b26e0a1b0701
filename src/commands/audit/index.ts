import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { auditList } from '../../cli/handlers/audit.js';

export default class Audit extends BaseCommand {
  static override summary = 'Show the audit log.';
  static override description = `Prints audit events, oldest first: time, actor, action, target, outcome, IP and request id ('-' when unknown), then the detail in quotes. Filters combine: --actor matches an actor id or label exactly (a value ending in ':' such as 'token:' matches every id with that prefix); --action matches exactly or as a dotted prefix ('token' matches token.create and token.revoke); --since takes a duration back from now (30m, 1h, 7d) or an ISO time; --limit keeps the newest N.

--json prints an array of {seq, time, actor:{id,label}, ip, requestId, action, target, outcome, detail, prev, hash}; absent fields are left out.

--follow keeps printing new events as they are appended (one NDJSON object per line with --json) until interrupted. It starts with the last 10 matching events unless --limit or --since says otherwise. With --remote NAME the server pushes its events over its WebSocket as they are written (the token needs the admin scope; at most 10000 past events).`;
  static override examples = [
    '<%= config.bin %> audit --since 1h',
    '<%= config.bin %> audit --outcome denied --limit 20',
    '<%= config.bin %> audit --action token --json',
    '<%= config.bin %> audit --follow --json',
  ];
  static override flags = {
    follow: Flags.boolean({ char: 'F', description: 'keep printing new events until interrupted' }),
    since: Flags.string({ description: 'only events since a duration ago (30m, 1h, 7d) or an ISO time', helpValue: '1h|ISO' }),
    actor: Flags.string({ description: "only this actor: id (local:alice, token:tok_…) or label; 'token:' for every token", helpValue: 'ACTOR' }),
    action: Flags.string({ description: 'only this action or action prefix (token, token.create, auth.failure)', helpValue: 'ACTION' }),
    outcome: Flags.string({ description: 'only this outcome', options: ['ok', 'denied', 'error'] }),
    limit: Flags.integer({ char: 'n', description: 'only the newest N matching events', min: 1, helpValue: 'N' }),
    remote: remoteFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Audit);
    await this.handle(flags.json, (ctx) => auditList(ctx, flags), flags.remote);
  }
}
