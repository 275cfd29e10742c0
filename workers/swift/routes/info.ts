// GET /info: what this Swift supports, as clients (swift capabilities) discover it. No auth.
import type { Context } from 'hono';
import { LIMITS } from '../names';
import { SLO_LIMITS } from '../large-objects';

/**
 * Middleware sections by name. Other Swift features (tempurl, bulk_delete, ...) add their
 * section here when their module loads.
 */
export const capabilities: Record<string, Record<string, unknown>> = {
  swift: {
    version: '2.35.0',
    max_file_size: LIMITS.maxFileSize,
    max_meta_name_length: LIMITS.maxMetaNameLength,
    max_meta_value_length: LIMITS.maxMetaValueLength,
    max_meta_count: LIMITS.maxMetaCount,
    max_meta_overall_size: LIMITS.maxMetaOverallSize,
    max_header_size: LIMITS.maxHeaderSize,
    max_object_name_length: LIMITS.maxObjectNameLength,
    max_container_name_length: LIMITS.maxContainerNameLength,
    max_account_name_length: LIMITS.maxAccountNameLength,
    container_listing_limit: LIMITS.containerListingLimit,
    account_listing_limit: LIMITS.accountListingLimit,
    extra_header_count: 0,
    valid_api_versions: ['v1'],
    strict_cors_mode: true,
    allow_account_management: false,
    account_autocreate: true,
    policies: [{ name: 'Policy-0', aliases: 'Policy-0', default: true }],
  },
  slo: {
    max_manifest_segments: SLO_LIMITS.maxManifestSegments,
    max_manifest_size: SLO_LIMITS.maxManifestSize,
    min_segment_size: 1,
    yield_frequency: 10,
    allow_async_delete: true,
  },
  dlo: { max_segments: SLO_LIMITS.maxDloSegments },
};

export function info(c: Context): Response {
  return c.json(capabilities);
}
