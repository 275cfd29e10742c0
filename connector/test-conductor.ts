// A stand-in for the conductor, for the connector's tests: a local `ws` server on the
// connector path that checks every message against the protocol's schema, records them,
// and welcomes each hello. Tests drive it (send jobs, drop connections) and read what came.
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CONNECTOR_PATH, hostMessage, type ConductorMessage, type HostMessage } from '../lib/connector-protocol';

export interface TestConductorOptions {
  /** Answer the upgrade with this HTTP status instead of accepting it (401, 403, 503). */
  refuseWith?: (request: IncomingMessage) => number | undefined;
  /** Send `welcome` on hello (default true). */
  welcome?: boolean;
  heartbeatIntervalMs?: number;
  /** Answer pings (default true); off, the connection looks dead to the connector. */
  autoPong?: boolean;
}

export class TestConnection extends EventEmitter<{ message: [HostMessage] }> {
  readonly messages: HostMessage[] = [];
  readonly closed: Promise<{ code: number }>;

  constructor(
    readonly ws: WebSocket,
    readonly authorization: string | undefined,
  ) {
    super();
    this.closed = once(ws, 'close').then(([code]) => ({ code: code as number }));
  }

  send(message: ConductorMessage): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The first message (already received or still to come) that matches. */
  async waitFor<T extends HostMessage>(match: (m: HostMessage) => m is T, timeoutMs?: number): Promise<T>;
  async waitFor(match: (m: HostMessage) => boolean, timeoutMs?: number): Promise<HostMessage>;
  async waitFor(match: (m: HostMessage) => boolean, timeoutMs = 3_000): Promise<HostMessage> {
    const seen = this.messages.find(match);
    if (seen) return seen;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('message', listener);
        reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}`));
      }, timeoutMs);
      const listener = (message: HostMessage) => {
        if (!match(message)) return;
        clearTimeout(timer);
        this.off('message', listener);
        resolve(message);
      };
      this.on('message', listener);
    });
  }
}

export class TestConductor extends EventEmitter<{ connection: [TestConnection] }> {
  readonly connections: TestConnection[] = [];
  /** Upgrade requests seen, accepted or not. */
  attempts = 0;
  /** Messages that did not pass the protocol's schema (a test fails if any). */
  readonly invalid: unknown[] = [];
  url = '';
  private readonly server: Server;
  private readonly wss: WebSocketServer;

  constructor(private readonly options: TestConductorOptions = {}) {
    super();
    this.server = createServer((_request, response) => response.writeHead(404).end());
    this.wss = new WebSocketServer({
      server: this.server,
      path: CONNECTOR_PATH,
      autoPong: options.autoPong ?? true,
      verifyClient: ({ req }, callback) => {
        this.attempts++;
        const status = options.refuseWith?.(req);
        if (status) callback(false, status, status === 401 ? 'credential not valid' : undefined);
        else callback(true);
      },
    });
    this.wss.on('connection', (ws, request) => this.accept(ws, request));
  }

  static async start(options?: TestConductorOptions): Promise<TestConductor> {
    const conductor = new TestConductor(options);
    conductor.server.listen(0, '127.0.0.1');
    await once(conductor.server, 'listening');
    conductor.url = `http://127.0.0.1:${(conductor.server.address() as AddressInfo).port}`;
    return conductor;
  }

  /** The next connection to arrive (or the nth one, counting from 1, if already here). */
  async connection(n = this.connections.length + 1, timeoutMs = 3_000): Promise<TestConnection> {
    const here = this.connections[n - 1];
    if (here) return here;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection ${n} did not arrive within ${timeoutMs} ms`)), timeoutMs);
      const listener = () => {
        const arrived = this.connections[n - 1];
        if (!arrived) return;
        clearTimeout(timer);
        this.off('connection', listener);
        resolve(arrived);
      };
      this.on('connection', listener);
    });
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(ws: WebSocket, request: IncomingMessage): void {
    const connection = new TestConnection(ws, request.headers.authorization);
    ws.on('message', (data) => {
      const parsed = hostMessage.safeParse(JSON.parse(String(data)));
      if (!parsed.success) {
        this.invalid.push(parsed.error.issues);
        return;
      }
      const message = parsed.data;
      connection.messages.push(message);
      if (message.type === 'hello' && this.options.welcome !== false) {
        connection.send({ type: 'welcome', host: 'compute-1', heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 10_000 });
      }
      connection.emit('message', message);
    });
    this.connections.push(connection);
    this.emit('connection', connection);
  }
}
