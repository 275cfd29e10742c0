// The local cloud's public port. workerd closes a kept-alive HTTP connection after 5 s
// without a request, with no way to configure it; a client that polls every 5 s (the
// openstack CLI's --wait does) then sends its next request onto a connection being
// closed and fails with "Remote end closed connection without response". This TCP relay
// keeps the client's connection and, once a response has been idle for IDLE_MS (less
// than workerd's 5 s), lets go of the connection to workerd itself; the client's next
// bytes (always the start of a new request) go over a fresh one. Upgraded connections
// (the hosts' WebSockets) and requests still waiting for their answer are never cut.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Less than workerd's 5 s, by more than the sweep's period. */
const IDLE_MS = 4000;
const READ_BUFFER = 1 << 20;

export interface KeepAliveProxy {
  port: number;
  close(): Promise<void>;
}

/** One client connection and its current connection to workerd, if any. */
interface Relay {
  client: Socket;
  upstream: Socket | null;
  /** The last bytes went to the client (a response): the connection sits between requests. */
  answered: boolean;
  /** An upgraded connection (WebSocket) is a plain tunnel from then on. */
  tunnel: boolean;
  lastActivity: number;
}

// Each chunk read from a client is a fresh Buffer whose bytes V8 counts only as external
// memory, which starts a collection at 64 MB; a large upload would leave that much dead
// data in this process. A young-generation collection every few MB relayed frees it
// (the launcher runs with --expose-gc).
const COLLECT_EVERY = 8 << 20;
const collect = (globalThis as { gc?: (o: { type: 'minor' }) => void }).gc;
let uncollected = 0;

function relayed(bytes: number): void {
  uncollected += bytes;
  if (uncollected < COLLECT_EVERY) return;
  uncollected = 0;
  collect?.({ type: 'minor' });
}

function letGo(r: Relay): void {
  const old = r.upstream;
  if (!old) return;
  r.upstream = null;
  old.removeAllListeners('close');
  old.destroy();
}

function relay(r: Relay, upstreamPort: number, upstreamHost: string): void {
  const { client } = r;
  client.setNoDelay(true);

  const open = (): Socket => {
    // Responses are read into one buffer per connection, reused: no garbage, and far
    // fewer reads than Node's 64 KiB chunks (large downloads go 2-3x faster). Only the
    // pages a read fills are resident: a WebSocket's small messages touch a few. A write
    // the kernel did not take at once still holds the buffer, so reading waits until
    // that write is done.
    let waiting = false;
    const written = () => {
      if (!waiting) return;
      waiting = false;
      socket.resume();
    };
    const socket: Socket = connect({
      port: upstreamPort,
      host: upstreamHost,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER),
        callback: (n: number, buffer: Uint8Array) => {
          r.answered = true;
          r.lastActivity = Date.now();
          client.write(buffer.subarray(0, n), written);
          if (client.writableLength === 0) return true;
          waiting = true;
          return false;
        },
      },
    });
    socket.setNoDelay(true);
    socket.on('drain', () => client.resume());
    socket.on('error', () => socket.destroy());
    // workerd closed it: between requests the client keeps its connection; otherwise it ends too.
    socket.on('close', () => {
      if (r.upstream !== socket) return;
      r.upstream = null;
      if (r.tunnel || !r.answered) client.destroy();
    });
    return socket;
  };

  client.on('data', (chunk: Buffer) => {
    if (!r.upstream) {
      r.upstream = open();
      r.tunnel = /\r\nupgrade:/i.test(chunk.subarray(0, 4096).toString('latin1'));
    }
    r.answered = false;
    r.lastActivity = Date.now();
    if (!r.upstream.write(chunk)) client.pause();
    relayed(chunk.byteLength);
  });
  client.on('drain', () => r.upstream?.resume());
  client.on('end', () => r.upstream?.end());
  client.on('error', () => client.destroy());
  client.on('close', () => r.upstream?.destroy());
}

/** Listens on host:port and relays every connection to workerd at upstreamHost:upstreamPort. */
export function startKeepAliveProxy(host: string, port: number, upstreamHost: string, upstreamPort: number): Promise<KeepAliveProxy> {
  const relays = new Set<Relay>();
  const server: Server = createServer((client) => {
    const r: Relay = { client, upstream: null, answered: false, tunnel: false, lastActivity: Date.now() };
    relays.add(r);
    client.on('close', () => relays.delete(r));
    relay(r, upstreamPort, upstreamHost);
  });
  // One sweep for all connections, rather than a timer per chunk on the request path.
  const sweep = setInterval(() => {
    const cutoff = Date.now() - IDLE_MS;
    for (const r of relays) if (r.upstream && r.answered && !r.tunnel && r.lastActivity < cutoff) letGo(r);
  }, 250);
  sweep.unref();
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const address = server.address();
      if (!address || typeof address === 'string') return fail(new Error('proxy: no port'));
      ok({
        port: address.port,
        close: () =>
          new Promise((done) => {
            clearInterval(sweep);
            server.close(() => done());
            for (const r of relays) r.client.destroy();
          }),
      });
    });
  });
}
