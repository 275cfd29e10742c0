// JSON views of flavors, as Nova's views/flavors.py renders them for each microversion.
import type { Context } from 'hono';
import type { FlavorRow } from '../db';
import type { NovaEnv } from '../env';
import { collectionLinks, resourceLinks } from './links';

type C = Context<NovaEnv>;

/** GET /flavors: id, name, links, and from 2.55 the description. */
export function flavorBrief(c: C, f: FlavorRow): Record<string, unknown> {
  return {
    id: f.id,
    name: f.name,
    links: resourceLinks(c, 'flavors', f.id),
    ...(c.var.version.atLeast('2.55') ? { description: f.description } : {}),
  };
}

/**
 * A flavor in full. `extraSpecs` says whether the caller may read extra specs (from 2.61
 * they are shown to those who pass os-flavor-extra-specs:index).
 */
export function flavorView(c: C, f: FlavorRow, extraSpecs: boolean): Record<string, unknown> {
  const v = c.var.version;
  return {
    id: f.id,
    name: f.name,
    ram: f.memoryMb,
    disk: f.rootGb,
    // Before 2.75 a flavor without swap showed "" (Nova's `swap or ""`).
    swap: v.atLeast('2.75') ? f.swap : f.swap || '',
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeralGb,
    'OS-FLV-DISABLED:disabled': f.disabled,
    vcpus: f.vcpus,
    'os-flavor-access:is_public': f.isPublic,
    rxtx_factor: f.rxtxFactor || '',
    links: resourceLinks(c, 'flavors', f.id),
    ...(v.atLeast('2.55') ? { description: f.description } : {}),
    ...(v.atLeast('2.61') && extraSpecs ? { extra_specs: f.extraSpecs } : {}),
  };
}

/** A list page, with flavors_links when the page came back full. */
export function flavorList(c: C, rows: FlavorRow[], detail: boolean, extraSpecs: boolean): Record<string, unknown> {
  const links = collectionLinks(c, detail ? 'flavors/detail' : 'flavors', rows.length, rows[rows.length - 1]?.id);
  return {
    flavors: rows.map((f) => (detail ? flavorView(c, f, extraSpecs) : flavorBrief(c, f))),
    ...(links.length > 0 ? { flavors_links: links } : {}),
  };
}
