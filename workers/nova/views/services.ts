// JSON views of compute services, as Nova's ServiceController._get_service_detail makes them.
import type { ApiVersion } from '../../../lib/microversion';
import type { services } from '../../../schema/nova';

export type ServiceRow = typeof services.$inferSelect;
/** A services row with its integer id (the id clients see before 2.53). */
export type ServiceRecord = ServiceRow & { seq: number };

/** Up: the host's Conductor counts it as connected and heartbeating, and no admin forced it down. */
export function serviceIsUp(s: ServiceRow): boolean {
  return s.up && !s.forcedDown;
}

/** When the service last reported (Nova's updated_at, which each heartbeat moves). */
export function serviceUpdatedAt(s: ServiceRow): string | null {
  return s.lastSeenAt ?? s.updatedAt;
}

export function serviceView(v: ApiVersion, s: ServiceRecord): Record<string, unknown> {
  return {
    binary: s.binary,
    host: s.host,
    id: v.atLeast('2.53') ? s.id : s.seq,
    zone: s.availabilityZone,
    status: s.disabled ? 'disabled' : 'enabled',
    state: serviceIsUp(s) ? 'up' : 'down',
    updated_at: serviceUpdatedAt(s),
    disabled_reason: s.disabledReason,
    ...(v.atLeast('2.11') ? { forced_down: s.forcedDown } : {}),
  };
}
