// Request bodies of /v3/domains: no free-form attributes, as in Keystone.
import { z } from 'zod';
import { description, enabled, idString, projectOptions, resourceName, tags } from './parameter-types';

const domainProperties = {
  name: resourceName,
  description: description.optional(),
  enabled: enabled.optional(),
  options: projectOptions.optional(),
  tags: tags.optional(),
};

export const domainCreate = z.strictObject({
  domain: z.strictObject({ ...domainProperties, explicit_domain_id: idString.optional() }),
});

export const domainUpdate = z.strictObject({
  domain: z
    .strictObject({ ...domainProperties, name: resourceName.optional() })
    .refine((d) => Object.keys(d).length > 0, 'at least one attribute must be given'),
});
