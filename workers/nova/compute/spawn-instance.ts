// What a host is told about a server it makes: by a spawn, a rebuild or a move.
import type { SpawnInstance } from '../../../lib/connector-protocol';
import type { FlavorSnapshot } from '../../../schema/nova';
import type { InstanceRow } from '../db';
import { spawnImage, type GlanceImage } from './glance';

export function spawnInstanceOf(s: InstanceRow, flavor: FlavorSnapshot, imageId: string, image: GlanceImage | null): SpawnInstance {
  return {
    uuid: s.uuid,
    name: s.name,
    hostname: s.hostname,
    projectId: s.projectId,
    flavor: { name: flavor.name, vcpus: flavor.vcpus, memoryMb: flavor.ram, rootGb: flavor.disk, ephemeralGb: flavor.ephemeral, swapMb: flavor.swap },
    image: spawnImage(imageId, image),
    keyData: s.keyData,
    userData: s.userData,
    metadata: s.metadata,
  };
}
