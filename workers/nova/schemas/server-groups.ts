// Server group bodies (Nova's schemas/server_groups.py): a list of one policy until 2.64,
// then one policy and its rules.
import { z } from 'zod';
import { name, positiveInteger } from './parameter-types';

export const SERVER_GROUP_POLICIES = ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'] as const;
export type ServerGroupPolicy = (typeof SERVER_GROUP_POLICIES)[number];

const policies = (allowed: readonly ServerGroupPolicy[]) =>
  z.array(z.enum(allowed as [ServerGroupPolicy, ...ServerGroupPolicy[]])).length(1, 'must hold exactly one policy');

export const serverGroupCreateV2_1 = z.strictObject({
  server_group: z.strictObject({ name, policies: policies(['anti-affinity', 'affinity']) }),
});

/** 2.15: the soft policies. */
export const serverGroupCreateV2_15 = z.strictObject({
  server_group: z.strictObject({ name, policies: policies(SERVER_GROUP_POLICIES) }),
});

/** 2.64: one policy, and rules (max_server_per_host, for anti-affinity only). */
export const serverGroupCreateV2_64 = z.strictObject({
  server_group: z.strictObject({
    name,
    policy: z.enum(SERVER_GROUP_POLICIES),
    rules: z.strictObject({ max_server_per_host: positiveInteger.optional() }).optional(),
  }),
});

/** The query parameters of GET /os-server-groups (refused when unknown from 2.75). */
export const SERVER_GROUP_LIST_QUERY = ['all_projects', 'limit', 'offset'] as const;
