// Request bodies of /servers, after nova/api/openstack/compute/schemas/servers.py. Named
// after the microversion that introduced them.
import { z } from 'zod';

const name = z.string().min(1).max(255).refine((s) => s.trim() === s && s.length > 0, 'no leading or trailing whitespace');
const metadata = z
  .record(z.string().min(1).max(255), z.string().max(255))
  .refine((m) => Object.keys(m).length <= 128, 'at most 128 metadata items');
const ref = z.union([z.string().max(255), z.number().int().nonnegative().transform(String)]);
const count = z.union([z.number().int().min(1), z.string().regex(/^[1-9]\d*$/).transform(Number)]);

const network = z.object({
  uuid: z.string().optional(),
  port: z.string().optional(),
  fixed_ip: z.string().optional(),
  tag: z.string().max(60).optional(),
}).strict();

const blockDevice = z
  .object({
    source_type: z.enum(['volume', 'image', 'snapshot', 'blank']).optional(),
    destination_type: z.enum(['local', 'volume']).optional(),
    uuid: z.string().optional(),
    boot_index: z.union([z.number().int(), z.string(), z.null()]).optional(),
    volume_size: z.union([z.number().int(), z.string()]).optional(),
    delete_on_termination: z.boolean().optional(),
    device_name: z.string().optional(),
    disk_bus: z.string().optional(),
    device_type: z.string().optional(),
    guest_format: z.string().optional(),
    volume_type: z.string().nullable().optional(),
    tag: z.string().optional(),
    no_device: z.boolean().optional(),
  })
  .strict();

export const serverCreateV2_1 = z.strictObject({
  server: z.strictObject({
    name,
    imageRef: z.string().max(255).optional(),
    flavorRef: ref,
    networks: z.union([z.literal('auto'), z.literal('none'), z.array(network)]).optional(),
    key_name: z.string().min(1).max(255).optional(),
    user_data: z.string().max(65535).nullable().optional(),
    metadata: metadata.optional(),
    availability_zone: z.string().min(1).max(255).optional(),
    block_device_mapping_v2: z.array(blockDevice).optional(),
    block_device_mapping: z.array(z.record(z.string(), z.unknown())).optional(),
    security_groups: z.array(z.strictObject({ name: z.string().min(1).max(255) })).optional(),
    min_count: count.optional(),
    max_count: count.optional(),
    return_reservation_id: z.union([z.boolean(), z.string()]).optional(),
    config_drive: z.union([z.boolean(), z.string()]).optional(),
    accessIPv4: z.string().optional(),
    accessIPv6: z.string().optional(),
    adminPass: z.string().optional(),
    'OS-DCF:diskConfig': z.enum(['AUTO', 'MANUAL']).optional(),
    personality: z.array(z.object({ path: z.string(), contents: z.string() })).optional(),
    description: z.string().max(255).nullable().optional(),
    tags: z.array(z.string().min(1).max(60)).max(50).optional(),
    trusted_image_certificates: z.array(z.string()).nullable().optional(),
    host: z.string().optional(),
    hypervisor_hostname: z.string().optional(),
  }),
  'os:scheduler_hints': z.record(z.string(), z.unknown()).optional(),
  'OS-SCH-HNT:scheduler_hints': z.record(z.string(), z.unknown()).optional(),
});
export type ServerCreate = z.infer<typeof serverCreateV2_1>;

export const serverUpdateV2_1 = z.strictObject({
  server: z.strictObject({
    name: name.optional(),
    accessIPv4: z.string().optional(),
    accessIPv6: z.string().optional(),
    'OS-DCF:diskConfig': z.enum(['AUTO', 'MANUAL']).optional(),
    description: z.string().max(255).nullable().optional(),
    hostname: z.string().max(63).optional(),
  }),
});

export const metadataBody = z.strictObject({ metadata });
export const metaItemBody = z.strictObject({ meta: z.record(z.string().min(1).max(255), z.string().max(255)) });

/** Characters and checks Nova applies to user_data: base64. */
export function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(s) && s.replace(/\s/g, '').length % 4 === 0;
}
