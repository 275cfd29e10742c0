// What a new cloud's compute service starts with: Nova's default flavors, m1.tiny to
// m1.xlarge, as DevStack and Nova's old migrations made them.
import { sql } from 'drizzle-orm';
import { flavors } from '../../schema/nova';
import { database, isoNow, type FlavorRow } from './db';

const DEFAULT_FLAVORS: [id: string, name: string, memoryMb: number, vcpus: number, rootGb: number][] = [
  ['1', 'm1.tiny', 512, 1, 1],
  ['2', 'm1.small', 2048, 1, 20],
  ['3', 'm1.medium', 4096, 2, 40],
  ['4', 'm1.large', 8192, 4, 80],
  ['5', 'm1.xlarge', 16384, 8, 160],
];

/**
 * Seeds the default flavors into a nova database that has none. Idempotent: once any
 * flavor exists nothing is written, so flavors an admin deleted stay deleted. The five
 * rows go in one statement, so a failure leaves none of them.
 */
export async function bootstrapNova(d1: D1Database): Promise<void> {
  const db = database(d1);
  const now = isoNow();
  const rows: FlavorRow[] = DEFAULT_FLAVORS.map(([id, name, memoryMb, vcpus, rootGb]) => ({
    id, name, memoryMb, vcpus, rootGb,
    ephemeralGb: 0, swap: 0, rxtxFactor: 1, isPublic: true, disabled: false, description: null, extraSpecs: {}, createdAt: now,
  }));
  const [{ n }] = (await db.select({ n: sql<number>`count(*)` }).from(flavors)) as [{ n: number }];
  if (n > 0) return;
  await db.insert(flavors).values(rows).onConflictDoNothing();
}
