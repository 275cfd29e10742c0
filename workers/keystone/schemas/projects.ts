// Request bodies of /v3/projects (Keystone's keystone/resource/schema.py).
import { z } from 'zod';
import { description, enabled, idString, projectOptions, resourceName, tag, tags } from './parameter-types';

/** The attributes a project has; anything else in a body is kept as "extra". */
export const PROJECT_FIELDS = ['name', 'domain_id', 'parent_id', 'description', 'enabled', 'is_domain', 'tags', 'options'] as const;

const projectProperties = {
  name: resourceName,
  domain_id: idString.nullable().optional(),
  parent_id: idString.nullable().optional(),
  description: description.optional(),
  enabled: enabled.optional(),
  is_domain: z.boolean().optional(),
  tags: tags.optional(),
  options: projectOptions.optional(),
};

export const projectCreate = z.strictObject({ project: z.looseObject(projectProperties) });

export const projectUpdate = z.strictObject({
  project: z
    .looseObject({ ...projectProperties, name: resourceName.optional() })
    .refine((p) => Object.keys(p).length > 0, 'at least one attribute must be given'),
});

export const projectTagsUpdate = z.strictObject({ tags });

export { tag as projectTag };
export type ProjectCreate = z.infer<typeof projectCreate>['project'];
export type ProjectUpdate = z.infer<typeof projectUpdate>['project'];
