// The compute API's microversion history, as far as Flarestack implements it. Each entry
// names what changed for clients; handlers test `c.var.version.atLeast('2.x')`.
export const MIN_VERSION = '2.1';
export const MAX_VERSION = '2.79';

export const VERSION_HISTORY: Record<string, string> = {
  '2.1': 'The v2.1 API.',
  '2.2': 'Keypairs have a type (ssh or x509).',
  '2.3': 'Extended server attributes: reservation_id, launch_index, hostname, kernel_id, ramdisk_id, root_device_name, user_data.',
  '2.9': 'Servers show "locked".',
  '2.10': 'Admins manage keypairs of other users (user_id).',
  '2.11': 'Services can be forced down.',
  '2.16': 'Servers show host_status.',
  '2.19': 'Servers have a description.',
  '2.26': 'Servers have tags.',
  '2.28': 'Hypervisors show cpu_info as an object.',
  '2.33': 'Hypervisors are paginated.',
  '2.35': 'Keypairs are paginated.',
  '2.36': 'Proxy APIs and network quotas are gone.',
  '2.37': 'networks is required on server create ("auto", "none" or a list).',
  '2.38': 'An invalid status filter on server lists is a 400.',
  '2.47': 'Servers embed their flavor.',
  '2.53': 'Services and hypervisors are identified by UUID.',
  '2.55': 'Flavors have a description.',
  '2.57': 'Injected files are gone; user_data can be set on rebuild.',
  '2.58': 'Instance actions are paginated and show updated_at.',
  '2.60': 'Multiattach volumes.',
  '2.61': 'Flavors show their extra_specs.',
  '2.62': 'Instance action events show host and hostId.',
  '2.64': 'Server groups have one policy and rules.',
  '2.69': 'Down cells give partial results.',
  '2.71': 'Servers show server_groups.',
  '2.73': 'Servers show locked_reason; lock takes a reason.',
  '2.75': 'Rebuild answers as server show does; unknown query parameters are a 400.',
  '2.79': 'Volume attachments take delete_on_termination.',
};
