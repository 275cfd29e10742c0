// A Worker that serves the Scheduler object over HTTP, so that its tests and benchmark
// can drive the real object in a local workerd from Node: POST /<method> with a JSON
// array of arguments calls that RPC method (Sets come back as arrays). POST /bench runs
// selects (and releases) inside workerd, where only the RPC is between them.
import type { HostInventory } from '../../lib/connector-protocol';
import { Scheduler, type HostAnnouncement } from '../scheduler';
import type { HostStatusUpdate, RequestSpec } from './types';

export { Scheduler };

interface Env {
  SCHEDULER: DurableObjectNamespace<Scheduler>;
}

/** POST /bench: `count` selects of the spec, each with its own instance uuid, each released unless `release` is false. */
export interface BenchRequest {
  spec: RequestSpec;
  count: number;
  release?: boolean;
}

/** Wall time in ms (workerd's clock moves only between I/O, so a batch, not each call). */
export interface BenchResult {
  ms: number;
  placed: number;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const stub = env.SCHEDULER.get(env.SCHEDULER.idFromName(url.searchParams.get('name') ?? 'scheduler'));
    const body: unknown = await request.json();
    const a = Array.isArray(body) ? body : [];
    let result: unknown;
    switch (url.pathname) {
      case '/upsertHost':
        result = await stub.upsertHost(a[0] as string, a[1] as HostInventory, a[2] as HostStatusUpdate | undefined);
        break;
      case '/upsertHosts':
        result = await stub.upsertHosts(a[0] as HostAnnouncement[]);
        break;
      case '/setHostStatus':
        result = await stub.setHostStatus(a[0] as string, a[1] as HostStatusUpdate);
        break;
      case '/selectDestinations':
        result = await stub.selectDestinations(a[0] as RequestSpec, a[1] as number | undefined);
        break;
      case '/claimAlternate':
        result = await stub.claimAlternate(a[0] as RequestSpec, a[1] as string[]);
        break;
      case '/releaseClaim':
        result = await stub.releaseClaim(a[0] as string);
        break;
      case '/hypervisors':
        result = await stub.hypervisors();
        break;
      case '/hostState':
        result = await stub.hostState(a[0] as string);
        break;
      case '/bench': {
        const { spec, count, release = true } = body as BenchRequest;
        let placed = 0;
        const t0 = Date.now();
        for (let i = 0; i < count; i++) {
          const uuid = `${spec.instanceUuid}-${i}`;
          if (await stub.selectDestinations({ ...spec, instanceUuid: uuid })) placed++;
          if (release) await stub.releaseClaim(uuid);
        }
        result = { ms: Date.now() - t0, placed } satisfies BenchResult;
        break;
      }
      default:
        return new Response('no such method', { status: 404 });
    }
    return new Response(JSON.stringify(result ?? null, (_key, value: unknown) => (value instanceof Set ? [...value] : value)), {
      headers: { 'Content-Type': 'application/json' },
    });
  },
} satisfies ExportedHandler<Env>;
