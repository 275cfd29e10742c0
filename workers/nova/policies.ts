// Nova's default policy rules, named as upstream names them (nova/policies/*.py) so
// policy files carry over. Targets: project_id (the resource's project), user_id.
import { servicePolicy, type PolicyRule } from '../../lib/policy';

const ADMIN = 'role:admin';
const PROJECT_READER_OR_ADMIN = `${ADMIN} or (role:reader and project_id:%(project_id)s)`;
const PROJECT_MEMBER_OR_ADMIN = `${ADMIN} or (role:member and project_id:%(project_id)s)`;
const ANY = '@';
const OWNER_OR_ADMIN = `${ADMIN} or user_id:%(user_id)s`;

const rule = (name: string, checkStr: string, description: string, method: string, path: string): PolicyRule => ({
  name, checkStr, description, operations: [{ method, path }],
});
const action = (name: string, checkStr: string, description: string, act: string): PolicyRule =>
  rule(name, checkStr, description, 'POST', `/servers/{server_id}/action (${act})`);

export const novaPolicies: PolicyRule[] = [
  { name: 'context_is_admin', checkStr: ADMIN, description: 'Decides what is an admin context.' },
  // servers
  rule('os_compute_api:servers:index', PROJECT_READER_OR_ADMIN, 'List servers.', 'GET', '/servers'),
  rule('os_compute_api:servers:detail', PROJECT_READER_OR_ADMIN, 'List servers with details.', 'GET', '/servers/detail'),
  rule('os_compute_api:servers:index:get_all_tenants', ADMIN, 'List servers of all projects.', 'GET', '/servers'),
  rule('os_compute_api:servers:detail:get_all_tenants', ADMIN, 'List servers of all projects with details.', 'GET', '/servers/detail'),
  rule('os_compute_api:servers:allow_all_filters', ADMIN, 'Filter servers by any field.', 'GET', '/servers'),
  rule('os_compute_api:servers:show', PROJECT_READER_OR_ADMIN, 'Show a server.', 'GET', '/servers/{server_id}'),
  rule('os_compute_api:servers:show:host_status', ADMIN, 'Show the host status of a server.', 'GET', '/servers/{server_id}'),
  rule('os_compute_api:servers:create', PROJECT_MEMBER_OR_ADMIN, 'Create a server.', 'POST', '/servers'),
  rule('os_compute_api:servers:create:forced_host', ADMIN, 'Create a server on a named host.', 'POST', '/servers'),
  rule('os_compute_api:servers:update', PROJECT_MEMBER_OR_ADMIN, 'Update a server.', 'PUT', '/servers/{server_id}'),
  rule('os_compute_api:servers:delete', PROJECT_MEMBER_OR_ADMIN, 'Delete a server.', 'DELETE', '/servers/{server_id}'),
  action('os_compute_api:servers:start', PROJECT_MEMBER_OR_ADMIN, 'Start a server.', 'os-start'),
  action('os_compute_api:servers:stop', PROJECT_MEMBER_OR_ADMIN, 'Stop a server.', 'os-stop'),
  action('os_compute_api:servers:reboot', PROJECT_MEMBER_OR_ADMIN, 'Reboot a server.', 'reboot'),
  action('os_compute_api:servers:rebuild', PROJECT_MEMBER_OR_ADMIN, 'Rebuild a server.', 'rebuild'),
  action('os_compute_api:servers:resize', PROJECT_MEMBER_OR_ADMIN, 'Resize a server.', 'resize'),
  action('os_compute_api:servers:confirm_resize', PROJECT_MEMBER_OR_ADMIN, 'Confirm a resize.', 'confirmResize'),
  action('os_compute_api:servers:revert_resize', PROJECT_MEMBER_OR_ADMIN, 'Revert a resize.', 'revertResize'),
  action('os_compute_api:servers:create_image', PROJECT_MEMBER_OR_ADMIN, 'Snapshot a server into an image.', 'createImage'),
  action('os_compute_api:os-pause-server:pause', PROJECT_MEMBER_OR_ADMIN, 'Pause a server.', 'pause'),
  action('os_compute_api:os-pause-server:unpause', PROJECT_MEMBER_OR_ADMIN, 'Unpause a server.', 'unpause'),
  action('os_compute_api:os-suspend-server:suspend', PROJECT_MEMBER_OR_ADMIN, 'Suspend a server.', 'suspend'),
  action('os_compute_api:os-suspend-server:resume', PROJECT_MEMBER_OR_ADMIN, 'Resume a server.', 'resume'),
  action('os_compute_api:os-lock-server:lock', PROJECT_MEMBER_OR_ADMIN, 'Lock a server.', 'lock'),
  action('os_compute_api:os-lock-server:unlock', PROJECT_MEMBER_OR_ADMIN, 'Unlock a server.', 'unlock'),
  action('os_compute_api:os-lock-server:unlock:unlock_override', ADMIN, 'Unlock a server locked by someone else.', 'unlock'),
  action('os_compute_api:os-console-output', PROJECT_MEMBER_OR_ADMIN, 'Show the console output of a server.', 'os-getConsoleOutput'),
  action('os_compute_api:os-migrate-server:migrate', ADMIN, 'Cold-migrate a server.', 'migrate'),
  action('os_compute_api:os-migrate-server:migrate_live', ADMIN, 'Live-migrate a server.', 'os-migrateLive'),
  action('os_compute_api:os-deferred-delete:force', PROJECT_MEMBER_OR_ADMIN, 'Force-delete a server.', 'forceDelete'),
  // migrations (the defaults before the manager role: admins only)
  rule('os_compute_api:os-migrations:index', ADMIN, 'List migrations.', 'GET', '/os-migrations'),
  rule('os_compute_api:servers:migrations:index', ADMIN, 'List the in-progress live migrations of a server.', 'GET', '/servers/{server_id}/migrations'),
  rule('os_compute_api:servers:migrations:show', ADMIN, 'Show an in-progress live migration of a server.', 'GET', '/servers/{server_id}/migrations/{migration_id}'),
  rule('os_compute_api:servers:migrations:delete', ADMIN, 'Abort an in-progress live migration.', 'DELETE', '/servers/{server_id}/migrations/{migration_id}'),
  rule('os_compute_api:os-extended-server-attributes', ADMIN, 'Show host and other extended attributes of servers.', 'GET', '/servers/{server_id}'),
  // server metadata
  rule('os_compute_api:server-metadata:index', PROJECT_READER_OR_ADMIN, 'List server metadata.', 'GET', '/servers/{server_id}/metadata'),
  rule('os_compute_api:server-metadata:show', PROJECT_READER_OR_ADMIN, 'Show a server metadata item.', 'GET', '/servers/{server_id}/metadata/{key}'),
  rule('os_compute_api:server-metadata:create', PROJECT_MEMBER_OR_ADMIN, 'Add server metadata.', 'POST', '/servers/{server_id}/metadata'),
  rule('os_compute_api:server-metadata:update_all', PROJECT_MEMBER_OR_ADMIN, 'Replace server metadata.', 'PUT', '/servers/{server_id}/metadata'),
  rule('os_compute_api:server-metadata:update', PROJECT_MEMBER_OR_ADMIN, 'Set a server metadata item.', 'PUT', '/servers/{server_id}/metadata/{key}'),
  rule('os_compute_api:server-metadata:delete', PROJECT_MEMBER_OR_ADMIN, 'Delete a server metadata item.', 'DELETE', '/servers/{server_id}/metadata/{key}'),
  // instance actions
  rule('os_compute_api:os-instance-actions:list', PROJECT_READER_OR_ADMIN, 'List the actions of a server.', 'GET', '/servers/{server_id}/os-instance-actions'),
  rule('os_compute_api:os-instance-actions:show', PROJECT_READER_OR_ADMIN, 'Show an action of a server.', 'GET', '/servers/{server_id}/os-instance-actions/{request_id}'),
  rule('os_compute_api:os-instance-actions:events', ADMIN, 'Show the events of an action.', 'GET', '/servers/{server_id}/os-instance-actions/{request_id}'),
  rule('os_compute_api:os-instance-actions:events:details', ADMIN, 'Show the host and details of action events.', 'GET', '/servers/{server_id}/os-instance-actions/{request_id}'),
  // flavors
  rule('os_compute_api:flavors', ANY, 'List and show flavors.', 'GET', '/flavors'),
  rule('os_compute_api:os-flavor-manage:create', ADMIN, 'Create a flavor.', 'POST', '/flavors'),
  rule('os_compute_api:os-flavor-manage:update', ADMIN, 'Update a flavor description.', 'PUT', '/flavors/{flavor_id}'),
  rule('os_compute_api:os-flavor-manage:delete', ADMIN, 'Delete a flavor.', 'DELETE', '/flavors/{flavor_id}'),
  rule('os_compute_api:os-flavor-access', ADMIN, 'List the projects with access to a private flavor.', 'GET', '/flavors/{flavor_id}/os-flavor-access'),
  action('os_compute_api:os-flavor-access:add_tenant_access', ADMIN, 'Give a project access to a private flavor.', 'addTenantAccess'),
  action('os_compute_api:os-flavor-access:remove_tenant_access', ADMIN, 'Take away a project\'s access to a private flavor.', 'removeTenantAccess'),
  rule('os_compute_api:os-flavor-extra-specs:index', `${ADMIN} or role:reader`, 'List flavor extra specs.', 'GET', '/flavors/{flavor_id}/os-extra_specs'),
  rule('os_compute_api:os-flavor-extra-specs:show', `${ADMIN} or role:reader`, 'Show a flavor extra spec.', 'GET', '/flavors/{flavor_id}/os-extra_specs/{key}'),
  rule('os_compute_api:os-flavor-extra-specs:create', ADMIN, 'Create flavor extra specs.', 'POST', '/flavors/{flavor_id}/os-extra_specs'),
  rule('os_compute_api:os-flavor-extra-specs:update', ADMIN, 'Update a flavor extra spec.', 'PUT', '/flavors/{flavor_id}/os-extra_specs/{key}'),
  rule('os_compute_api:os-flavor-extra-specs:delete', ADMIN, 'Delete a flavor extra spec.', 'DELETE', '/flavors/{flavor_id}/os-extra_specs/{key}'),
  // keypairs
  rule('os_compute_api:os-keypairs:index', OWNER_OR_ADMIN, 'List keypairs.', 'GET', '/os-keypairs'),
  rule('os_compute_api:os-keypairs:create', OWNER_OR_ADMIN, 'Create or import a keypair.', 'POST', '/os-keypairs'),
  rule('os_compute_api:os-keypairs:show', OWNER_OR_ADMIN, 'Show a keypair.', 'GET', '/os-keypairs/{keypair_name}'),
  rule('os_compute_api:os-keypairs:delete', OWNER_OR_ADMIN, 'Delete a keypair.', 'DELETE', '/os-keypairs/{keypair_name}'),
  // zones, hosts, services
  rule('os_compute_api:os-availability-zone:list', ANY, 'List availability zones.', 'GET', '/os-availability-zone'),
  rule('os_compute_api:os-availability-zone:detail', ADMIN, 'List availability zones with their hosts.', 'GET', '/os-availability-zone/detail'),
  rule('os_compute_api:os-hypervisors:list', ADMIN, 'List hypervisors.', 'GET', '/os-hypervisors'),
  rule('os_compute_api:os-hypervisors:list-detail', ADMIN, 'List hypervisors with details.', 'GET', '/os-hypervisors/detail'),
  rule('os_compute_api:os-hypervisors:show', ADMIN, 'Show a hypervisor.', 'GET', '/os-hypervisors/{hypervisor_id}'),
  rule('os_compute_api:os-hypervisors:statistics', ADMIN, 'Show hypervisor statistics.', 'GET', '/os-hypervisors/statistics'),
  rule('os_compute_api:os-hypervisors:servers', ADMIN, 'List the servers of hypervisors.', 'GET', '/os-hypervisors/{hypervisor_hostname_pattern}/servers'),
  rule('os_compute_api:os-hypervisors:uptime', ADMIN, 'Show the uptime of a hypervisor.', 'GET', '/os-hypervisors/{hypervisor_id}/uptime'),
  rule('os_compute_api:os-aggregates:index', ADMIN, 'List host aggregates.', 'GET', '/os-aggregates'),
  rule('os_compute_api:os-hypervisors:search', ADMIN, 'Search hypervisors.', 'GET', '/os-hypervisors/{hypervisor_hostname_pattern}/search'),
  rule('os_compute_api:os-services:list', ADMIN, 'List compute services.', 'GET', '/os-services'),
  rule('os_compute_api:os-services:update', ADMIN, 'Disable, enable or force down a compute service.', 'PUT', '/os-services/{service_id}'),
  rule('os_compute_api:os-services:delete', ADMIN, 'Delete a compute service.', 'DELETE', '/os-services/{service_id}'),
  rule('os_compute_api:os-host-credentials', ADMIN, 'Create, list and revoke the credentials of hosts\' connectors.', 'POST', '/os-host-credentials'),
  // limits and quotas
  rule('os_compute_api:limits', ANY, 'Show rate and absolute limits of the project.', 'GET', '/limits'),
  rule('os_compute_api:limits:other_project', ADMIN, 'Show the limits of another project.', 'GET', '/limits'),
  rule('os_compute_api:os-quota-sets:show', PROJECT_READER_OR_ADMIN, 'Show a project\'s quota.', 'GET', '/os-quota-sets/{tenant_id}'),
  rule('os_compute_api:os-quota-sets:detail', PROJECT_READER_OR_ADMIN, 'Show a project\'s quota with usage.', 'GET', '/os-quota-sets/{tenant_id}/detail'),
  rule('os_compute_api:os-quota-sets:defaults', ANY, 'Show the default quota.', 'GET', '/os-quota-sets/{tenant_id}/defaults'),
  rule('os_compute_api:os-quota-sets:update', ADMIN, 'Update a project\'s quota.', 'PUT', '/os-quota-sets/{tenant_id}'),
  rule('os_compute_api:os-quota-sets:delete', ADMIN, 'Revert a project\'s quota to the defaults.', 'DELETE', '/os-quota-sets/{tenant_id}'),
  // server groups
  rule('os_compute_api:os-server-groups:create', `${ADMIN} or role:member`, 'Create a server group.', 'POST', '/os-server-groups'),
  rule('os_compute_api:os-server-groups:delete', PROJECT_MEMBER_OR_ADMIN, 'Delete a server group.', 'DELETE', '/os-server-groups/{server_group_id}'),
  rule('os_compute_api:os-server-groups:index', PROJECT_READER_OR_ADMIN, 'List server groups.', 'GET', '/os-server-groups'),
  rule('os_compute_api:os-server-groups:index:all_projects', ADMIN, 'List the server groups of all projects.', 'GET', '/os-server-groups'),
  rule('os_compute_api:os-server-groups:show', PROJECT_READER_OR_ADMIN, 'Show a server group.', 'GET', '/os-server-groups/{server_group_id}'),
];

export const { authorize, allowed } = servicePolicy(novaPolicies);
