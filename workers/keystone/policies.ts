// Keystone's default policy rules, named as upstream names them so policy files carry
// over. Admin manages everything; a system reader reads everything; a user reads itself
// and the projects it belongs to, and manages its own application credentials.
import { servicePolicy, type PolicyRule } from '../../lib/policy';

const ADMIN = 'rule:admin_required';
const READER = 'rule:admin_or_system_reader';
const SELF = 'user_id:%(target.user.id)s';

function crud(resource: string, plural: string, read = READER, write = ADMIN): PolicyRule[] {
  const path = `/v3/${plural}`;
  return [
    { name: `identity:get_${resource}`, checkStr: read, description: `Show ${resource} details.`, operations: [{ method: 'GET', path: `${path}/{id}` }] },
    { name: `identity:list_${plural}`, checkStr: read, description: `List ${plural}.`, operations: [{ method: 'GET', path }] },
    { name: `identity:create_${resource}`, checkStr: write, description: `Create ${resource}.`, operations: [{ method: 'POST', path }] },
    { name: `identity:update_${resource}`, checkStr: write, description: `Update ${resource}.`, operations: [{ method: 'PATCH', path: `${path}/{id}` }] },
    { name: `identity:delete_${resource}`, checkStr: write, description: `Delete ${resource}.`, operations: [{ method: 'DELETE', path: `${path}/{id}` }] },
  ];
}

export const keystonePolicies: PolicyRule[] = [
  { name: 'admin_required', checkStr: 'role:admin', description: 'An admin of any scope.' },
  { name: 'system_reader', checkStr: 'role:reader and system_scope:all', description: 'A reader with system scope.' },
  { name: 'admin_or_system_reader', checkStr: 'rule:admin_required or rule:system_reader', description: 'Reads everything.' },
  { name: 'owner', checkStr: SELF, description: 'The user the request is about.' },
  { name: 'admin_or_owner', checkStr: 'rule:admin_required or rule:owner', description: 'Admin, or the user itself.' },
  ...crud('domain', 'domains', `${READER} or domain_id:%(target.domain.id)s`),
  // As in Keystone, a token scoped to a domain or to a project in it may read that domain.
  { name: 'identity:get_domain', checkStr: `${READER} or domain_id:%(target.domain.id)s or project_domain_id:%(target.domain.id)s`, description: 'Show domain details.', operations: [{ method: 'GET', path: '/v3/domains/{domain_id}' }] },
  ...crud('project', 'projects'),
  { name: 'identity:get_project', checkStr: `${READER} or project_id:%(target.project.id)s`, description: 'Show project details: admins, system readers, and members of that project.', operations: [{ method: 'GET', path: '/v3/projects/{project_id}' }] },
  { name: 'identity:list_user_projects', checkStr: `${READER} or ${SELF}`, description: 'List the projects of a user.', operations: [{ method: 'GET', path: '/v3/users/{user_id}/projects' }] },
  { name: 'identity:list_project_tags', checkStr: `${READER} or project_id:%(target.project.id)s`, description: 'List the tags of a project.', operations: [{ method: 'GET', path: '/v3/projects/{project_id}/tags' }] },
  { name: 'identity:update_project_tags', checkStr: ADMIN, description: 'Change the tags of a project.', operations: [{ method: 'PUT', path: '/v3/projects/{project_id}/tags' }] },
  { name: 'identity:get_project_tag', checkStr: `${READER} or project_id:%(target.project.id)s`, description: 'Check a tag of a project.', operations: [{ method: 'GET', path: '/v3/projects/{project_id}/tags/{tag}' }] },
  { name: 'identity:create_project_tag', checkStr: ADMIN, description: 'Add a tag to a project.', operations: [{ method: 'PUT', path: '/v3/projects/{project_id}/tags/{tag}' }] },
  { name: 'identity:delete_project_tag', checkStr: ADMIN, description: 'Remove a tag from a project.', operations: [{ method: 'DELETE', path: '/v3/projects/{project_id}/tags/{tag}' }] },
  { name: 'identity:delete_project_tags', checkStr: ADMIN, description: 'Remove every tag of a project.', operations: [{ method: 'DELETE', path: '/v3/projects/{project_id}/tags' }] },
  ...crud('user', 'users'),
  { name: 'identity:get_user', checkStr: `${READER} or ${SELF}`, description: 'Show user details: admins, system readers, and the user itself.', operations: [{ method: 'GET', path: '/v3/users/{user_id}' }] },
  { name: 'identity:change_password', checkStr: SELF, description: 'A user changes its own password.', operations: [{ method: 'POST', path: '/v3/users/{user_id}/password' }] },
  { name: 'identity:list_groups_for_user', checkStr: `${READER} or ${SELF}`, description: 'List the groups of a user.', operations: [{ method: 'GET', path: '/v3/users/{user_id}/groups' }] },
  ...crud('group', 'groups'),
  { name: 'identity:list_users_in_group', checkStr: READER, description: 'List the members of a group.', operations: [{ method: 'GET', path: '/v3/groups/{group_id}/users' }] },
  { name: 'identity:check_user_in_group', checkStr: READER, description: 'Check membership.', operations: [{ method: 'HEAD', path: '/v3/groups/{group_id}/users/{user_id}' }] },
  { name: 'identity:add_user_to_group', checkStr: ADMIN, description: 'Add a user to a group.', operations: [{ method: 'PUT', path: '/v3/groups/{group_id}/users/{user_id}' }] },
  { name: 'identity:remove_user_from_group', checkStr: ADMIN, description: 'Remove a user from a group.', operations: [{ method: 'DELETE', path: '/v3/groups/{group_id}/users/{user_id}' }] },
  ...crud('role', 'roles'),
  { name: 'identity:list_implied_roles', checkStr: READER, description: 'List the roles a role implies.', operations: [{ method: 'GET', path: '/v3/roles/{prior_role_id}/implies' }] },
  { name: 'identity:get_implied_role', checkStr: READER, description: 'Show an implied role.', operations: [{ method: 'GET', path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}' }] },
  { name: 'identity:check_implied_role', checkStr: READER, description: 'Check an implied role.', operations: [{ method: 'HEAD', path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}' }] },
  { name: 'identity:create_implied_role', checkStr: ADMIN, description: 'Create an implied role.', operations: [{ method: 'PUT', path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}' }] },
  { name: 'identity:delete_implied_role', checkStr: ADMIN, description: 'Delete an implied role.', operations: [{ method: 'DELETE', path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}' }] },
  { name: 'identity:list_role_inference_rules', checkStr: READER, description: 'List all implied roles.', operations: [{ method: 'GET', path: '/v3/role_inferences' }] },
  { name: 'identity:check_grant', checkStr: READER, description: 'Check a role grant.', operations: [{ method: 'HEAD', path: '/v3/projects/{project_id}/users/{user_id}/roles/{role_id}' }] },
  { name: 'identity:list_grants', checkStr: READER, description: 'List role grants.', operations: [{ method: 'GET', path: '/v3/projects/{project_id}/users/{user_id}/roles' }] },
  { name: 'identity:create_grant', checkStr: ADMIN, description: 'Grant a role.', operations: [{ method: 'PUT', path: '/v3/projects/{project_id}/users/{user_id}/roles/{role_id}' }] },
  { name: 'identity:revoke_grant', checkStr: ADMIN, description: 'Revoke a role.', operations: [{ method: 'DELETE', path: '/v3/projects/{project_id}/users/{user_id}/roles/{role_id}' }] },
  ...(['user', 'group'] as const).flatMap((actor): PolicyRule[] => [
    { name: `identity:check_system_grant_for_${actor}`, checkStr: READER, description: `Check a ${actor}'s role on the system.`, operations: [{ method: 'HEAD', path: `/v3/system/${actor}s/{${actor}_id}/roles/{role_id}` }] },
    { name: `identity:list_system_grants_for_${actor}`, checkStr: READER, description: `List a ${actor}'s roles on the system.`, operations: [{ method: 'GET', path: `/v3/system/${actor}s/{${actor}_id}/roles` }] },
    { name: `identity:create_system_grant_for_${actor}`, checkStr: ADMIN, description: `Grant a ${actor} a role on the system.`, operations: [{ method: 'PUT', path: `/v3/system/${actor}s/{${actor}_id}/roles/{role_id}` }] },
    { name: `identity:revoke_system_grant_for_${actor}`, checkStr: ADMIN, description: `Revoke a ${actor}'s role on the system.`, operations: [{ method: 'DELETE', path: `/v3/system/${actor}s/{${actor}_id}/roles/{role_id}` }] },
  ]),
  { name: 'identity:list_role_assignments_for_tree', checkStr: `${READER} or (role:reader and project_id:%(scope.project.id)s)`, description: 'List role assignments on a project and its subtree.', operations: [{ method: 'GET', path: '/v3/role_assignments?include_subtree' }] },
  { name: 'identity:list_role_assignments', checkStr: `${READER} or (role:reader and project_id:%(scope.project.id)s)`, description: 'List role assignments; a project reader sees its own project.', operations: [{ method: 'GET', path: '/v3/role_assignments' }] },
  ...crud('service', 'services'),
  ...crud('endpoint', 'endpoints'),
  ...crud('region', 'regions', '@'),
  { name: 'identity:validate_token', checkStr: `${READER} or user_id:%(target.token.user_id)s`, description: 'Validate a token: admins, system readers, the token owner.', operations: [{ method: 'GET', path: '/v3/auth/tokens' }] },
  { name: 'identity:check_token', checkStr: `${READER} or user_id:%(target.token.user_id)s`, description: 'Check a token.', operations: [{ method: 'HEAD', path: '/v3/auth/tokens' }] },
  { name: 'identity:revoke_token', checkStr: `${ADMIN} or user_id:%(target.token.user_id)s`, description: 'Revoke a token.', operations: [{ method: 'DELETE', path: '/v3/auth/tokens' }] },
  { name: 'identity:get_application_credential', checkStr: `${READER} or ${SELF}`, description: 'Show an application credential.', operations: [{ method: 'GET', path: '/v3/users/{user_id}/application_credentials/{id}' }] },
  { name: 'identity:list_application_credentials', checkStr: `${READER} or ${SELF}`, description: 'List application credentials.', operations: [{ method: 'GET', path: '/v3/users/{user_id}/application_credentials' }] },
  { name: 'identity:create_application_credential', checkStr: SELF, description: 'A user creates its own application credential.', operations: [{ method: 'POST', path: '/v3/users/{user_id}/application_credentials' }] },
  { name: 'identity:delete_application_credential', checkStr: `${ADMIN} or ${SELF}`, description: 'Delete an application credential.', operations: [{ method: 'DELETE', path: '/v3/users/{user_id}/application_credentials/{id}' }] },
];

export const { authorize } = servicePolicy(keystonePolicies);
