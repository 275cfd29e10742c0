// Service catalog bodies (Keystone's keystone/catalog/schema.py). Unknown attributes are kept as extra.
import { z } from 'zod';
import { description, enabled, extraValue, id, name } from './parameter-types';

const serviceType = z.string().min(1).max(255);
const url = z.string().min(1).max(225).regex(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S+$/, 'must be a URL');
const iface = z.enum(['public', 'internal', 'admin']);
const nonEmpty = <T extends Record<string, unknown>>(o: T) => Object.keys(o).length > 0;

const serviceFields = { type: serviceType, name: name.nullable().optional(), description: description.optional(), enabled: enabled.optional() };
export const serviceCreate = z.strictObject({ service: z.object(serviceFields).catchall(extraValue) });
export const serviceUpdate = z.strictObject({
  service: z.object({ ...serviceFields, type: serviceType.optional() }).catchall(extraValue).refine(nonEmpty, 'at least one attribute must be given'),
});

const endpointFields = {
  service_id: id,
  interface: iface,
  url,
  region_id: id.nullable().optional(),
  /** The legacy spelling of region_id, which keystoneclient still sends. */
  region: id.nullable().optional(),
  enabled: enabled.optional(),
};
export const endpointCreate = z.strictObject({ endpoint: z.object(endpointFields).catchall(extraValue) });
export const endpointUpdate = z.strictObject({
  endpoint: z
    .object({ ...endpointFields, service_id: id.optional(), interface: iface.optional(), url: url.optional() })
    .catchall(extraValue)
    .refine(nonEmpty, 'at least one attribute must be given'),
});

const regionFields = { description: description.optional(), parent_region_id: id.nullable().optional() };
export const regionCreate = z.strictObject({
  region: z.object({ ...regionFields, id: id.optional() }).catchall(extraValue),
});
export const regionUpdate = z.strictObject({
  region: z.object(regionFields).catchall(extraValue).refine(nonEmpty, 'at least one attribute must be given'),
});
