// JSON views of server groups, as Nova's ServerGroupController._format_server_group does.
import type { ApiVersion } from '../../../lib/microversion';
import type { serverGroups } from '../../../schema/nova';

export type ServerGroupRow = typeof serverGroups.$inferSelect;

/** `members` are the group's servers that are not deleted. */
export function serverGroupView(v: ApiVersion, g: ServerGroupRow, members: string[]): Record<string, unknown> {
  return {
    id: g.uuid,
    name: g.name,
    // 2.64: one policy and its rules; before, a list of one policy and an empty metadata.
    ...(v.atLeast('2.64') ? { policy: g.policy, rules: g.rules } : { policies: [g.policy], metadata: {} }),
    members,
    ...(v.atLeast('2.13') ? { project_id: g.projectId, user_id: g.userId } : {}),
  };
}
