// os-services bodies (Nova's schemas/services.py): before 2.53 the service is named by host
// and binary in the body and the action by the URL; from 2.53 the URL holds its UUID.
import { z } from 'zod';
import { boolean, fqdn } from './parameter-types';

const binary = z.string().min(1).max(255);
const disabledReason = z.string().min(1).max(255);

export const serviceUpdateV2_1 = z.strictObject({ host: fqdn, binary, disabled_reason: disabledReason.optional() });

/** 2.11: services can be forced down. */
export const serviceUpdateV2_11 = z.strictObject({
  host: fqdn,
  binary,
  disabled_reason: disabledReason.optional(),
  forced_down: boolean.optional(),
});

/** 2.53: PUT /os-services/{service_id} with what to change; nothing is required. */
export const serviceUpdateV2_53 = z.strictObject({
  status: z.enum(['enabled', 'disabled']).optional(),
  disabled_reason: disabledReason.optional(),
  forced_down: boolean.optional(),
});

/** The query parameters of GET /os-services (refused when unknown from 2.75). */
export const SERVICE_LIST_QUERY = ['host', 'binary'] as const;
