// The connection from a host to its conductor: dial out, say hello with the inventory and
// the instances the driver runs, heartbeat, run the jobs that arrive, and when the
// connection drops, dial again with backoff and say hello again. A refused credential
// ends the connector instead: retrying cannot make a revoked credential valid.
//
// Light enough to run a hundred in one process: one socket (without per-message deflate,
// whose zlib contexts cost far more than the rest), a few timers, and the job journal.
import { EventEmitter } from 'node:events';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import WebSocket, { type RawData } from 'ws';
import { z } from 'zod';
import { CONNECTOR_PATH, PROTOCOL_VERSION, conductorMessage, credentialHeader, type HostMessage } from '../lib/connector-protocol';
import type { ComputeDriver } from './drivers/driver';
import { JobRunner } from './job-runner';
import { JobJournal } from './journal';

export interface ConnectorOptions {
  /** The control plane's base URL (http, https, ws or wss); the connector path is added. */
  url: string;
  /** The host credential, `<credential id>.<secret>`. */
  credential: string;
  /** The hypervisor. The caller owns it: stop() does not close it. */
  driver: ComputeDriver;
  /** Keep the journal of finished jobs in this JSON file. */
  journalFile?: string;
  /** How many finished jobs the journal remembers (default 512). */
  journalSize?: number;
  /** Reconnect delays: the first, doubling up to the most (default 500 ms to 30 s), with jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How long a connection may take from dialling to `welcome` (default 30 s). */
  welcomeTimeoutMs?: number;
  /** The dice for the jitter (tests pass their own). */
  random?: () => number;
  /** Where to say what happens (default: nowhere). */
  log?: (message: string) => void;
}

export interface Welcome {
  host: string;
  heartbeatIntervalMs: number;
}

/** Why the control plane turned the host away. `status` is the HTTP status of the upgrade. */
export interface Refusal {
  status?: number;
  message: string;
}

export type ConnectorEnd = { reason: 'stopped' } | { reason: 'killed' } | ({ reason: 'refused' } & Refusal);
export type ConnectorState = 'connecting' | 'connected' | 'waiting' | 'ended';

export interface ConnectorEvents {
  /** A conductor welcomed the host (on the first connection and on every reconnection). */
  connected: [Welcome];
  /** A welcomed connection closed; the connector will dial again. */
  disconnected: [{ code: number; reason: string }];
  /** A connection attempt failed or dropped; the next one starts after `delayMs`. */
  retrying: [{ attempt: number; delayMs: number; error: string }];
  /** The control plane refused the credential; the connector has ended. */
  refused: [Refusal];
}

export interface ConnectorHandle extends EventEmitter<ConnectorEvents> {
  readonly state: ConnectorState;
  /** The host name the conductor knows this host by (from the credential), once welcomed. */
  readonly host: string | undefined;
  /** Resolves when the connector has ended for good: stopped, killed or refused. Never rejects. */
  readonly done: Promise<ConnectorEnd>;
  /** Resolves at the next welcome (at once when connected); rejects if the connector ends first. */
  connected(): Promise<Welcome>;
  /** Take no more jobs, let the running ones finish and report, close the socket cleanly. */
  stop(): Promise<void>;
  /** Drop the socket without a close handshake and end, as a crash would. */
  kill(): void;
}

/** One connection attempt and what belongs to it. */
interface Session {
  ws: WebSocket;
  helloSent: boolean;
  welcome?: Welcome;
  lastHeard: number;
  timer?: NodeJS.Timeout;
  heartbeat?: NodeJS.Timeout;
  refusal?: Refusal;
  error?: string;
}

/** `http://cloud:8787` → `ws://cloud:8787/compute/connector`. */
export function connectorUrl(base: string): string {
  const url = new URL(base);
  const schemes: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };
  const scheme = schemes[url.protocol];
  if (!scheme) throw new Error(`the control plane URL must be http(s) or ws(s), got ${base}`);
  url.protocol = scheme;
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(CONNECTOR_PATH) ? path : path + CONNECTOR_PATH;
  return url.href;
}

/** The delay before reconnection attempt `attempt` (0-based): doubling, capped, then jittered into [d/2, d]. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Start a connector. The options are checked here, so a bad one fails before any dialling. */
export function startConnector(options: ConnectorOptions): ConnectorHandle {
  return new Connector(options);
}

const credentialPattern = /^([^.\s]+)\.(\S+)$/;
/** Enough of a job to answer it when the rest cannot be read. */
const jobEnvelope = z.object({ type: z.literal('job'), job: z.object({ id: z.string().min(1).max(128) }) });

class Connector extends EventEmitter<ConnectorEvents> implements ConnectorHandle {
  state: ConnectorState = 'connecting';
  host: string | undefined;
  readonly done: Promise<ConnectorEnd>;
  private resolveDone: (end: ConnectorEnd) => void = () => undefined;
  private ended = false;
  private session: Session | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private waiters: { resolve: (welcome: Welcome) => void; reject: (error: Error) => void }[] = [];
  private readonly endpoint: string;
  private readonly authorization: string;
  private readonly runner: JobRunner;
  private readonly journal: JobJournal;
  private readonly unsubscribe: () => void;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly welcomeTimeoutMs: number;
  private readonly random: () => number;
  private readonly log: (message: string) => void;

  constructor(private readonly options: ConnectorOptions) {
    super();
    this.endpoint = connectorUrl(options.url);
    const credential = credentialPattern.exec(options.credential);
    if (!credential?.[1] || !credential[2]) throw new Error('the host credential must look like <credential id>.<secret>');
    this.authorization = credentialHeader(credential[1], credential[2]);
    this.initialMs = positive('backoff.initialMs', options.backoff?.initialMs ?? 500);
    this.maxMs = Math.max(this.initialMs, positive('backoff.maxMs', options.backoff?.maxMs ?? 30_000));
    this.welcomeTimeoutMs = positive('welcomeTimeoutMs', options.welcomeTimeoutMs ?? 30_000);
    this.random = options.random ?? Math.random;
    this.log = options.log ?? (() => undefined);
    this.journal = new JobJournal({ size: options.journalSize, file: options.journalFile });
    this.runner = new JobRunner(options.driver, this.journal, (message) => this.send(message), this.log);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.unsubscribe = options.driver.onPowerStateChange((instanceUuid, powerState) => this.send({ type: 'power_state', instanceUuid, powerState }));
    this.dial();
  }

  connected(): Promise<Welcome> {
    if (this.ended) return Promise.reject(new Error('the connector has ended'));
    const welcome = this.session?.welcome;
    if (welcome) return Promise.resolve(welcome);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async stop(): Promise<void> {
    if (this.ended) return void (await this.done);
    this.finish();
    // Running jobs still report on the open socket; the conductor redelivers anything unacked.
    await this.runner.idle();
    const session = this.session;
    if (session) {
      const { ws } = session;
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'connector stopping');
      else ws.terminate();
      const timer = setTimeout(() => ws.terminate(), 2_000);
      await closed;
      clearTimeout(timer);
    }
    await this.journal.flush().catch((error: unknown) => this.log(`could not save the job journal: ${String(error)}`));
    this.resolveDone({ reason: 'stopped' });
  }

  kill(): void {
    if (this.ended) return;
    this.finish();
    this.session?.ws.terminate();
    this.resolveDone({ reason: 'killed' });
  }

  private dial(): void {
    this.retryTimer = undefined;
    this.state = 'connecting';
    const ws = new WebSocket(this.endpoint, {
      headers: { authorization: this.authorization },
      perMessageDeflate: false,
      handshakeTimeout: this.welcomeTimeoutMs,
    });
    const session: Session = { ws, helloSent: false, lastHeard: Date.now() };
    this.session = session;
    session.timer = setTimeout(() => {
      session.error = `no welcome within ${this.welcomeTimeoutMs} ms`;
      ws.terminate();
    }, this.welcomeTimeoutMs);
    ws.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      const refused = status === 401 || status === 403;
      const describe = (said: string) => {
        if (refused) session.refusal = { status, message: `the control plane refused the host credential (HTTP ${status})${said}` };
        else session.error = `HTTP ${status} on the WebSocket upgrade${said}`;
      };
      // Decided on the status alone, so a body that never ends cannot turn a refusal into a retry.
      describe('');
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body = (body + chunk).slice(0, 500)));
      response.on('end', () => {
        if (body.trim()) describe(`: ${body.trim()}`);
        ws.terminate();
      });
      response.on('error', () => ws.terminate());
    });
    ws.on('open', () => void this.hello(session));
    ws.on('message', (data) => this.receive(session, data));
    ws.on('pong', () => (session.lastHeard = Date.now()));
    ws.on('error', (error) => (session.error ??= error.message));
    ws.on('close', (code, reason) => this.closed(session, code, reason.toString()));
  }

  private async hello(session: Session): Promise<void> {
    session.lastHeard = Date.now();
    const { driver } = this.options;
    try {
      const instances = await driver.listInstances();
      if (session.ws.readyState !== WebSocket.OPEN) return;
      session.helloSent = true;
      this.send({ type: 'hello', protocol: PROTOCOL_VERSION, driver: driver.name, inventory: driver.getInventory(), instances });
    } catch (error) {
      session.error = `could not list the instances for hello: ${error instanceof Error ? error.message : String(error)}`;
      session.ws.terminate();
    }
  }

  private receive(session: Session, data: RawData): void {
    session.lastHeard = Date.now();
    let json: unknown;
    try {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.log('ignored a message from the conductor that is not JSON');
      return;
    }
    const parsed = conductorMessage.safeParse(json);
    if (!parsed.success) {
      const envelope = jobEnvelope.safeParse(json);
      const issue = parsed.error.issues[0];
      const reason = `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
      if (envelope.success && !this.ended) this.runner.reject(envelope.data.job.id, reason);
      else this.log(`ignored a message from the conductor that this connector cannot read (${reason})`);
      return;
    }
    const message = parsed.data;
    if (message.type === 'welcome') this.welcomed(session, { host: message.host, heartbeatIntervalMs: message.heartbeatIntervalMs });
    else if (message.type === 'job' && !this.ended) this.runner.deliver(message.job);
    else if (message.type === 'error') {
      session.refusal = { message: `the control plane refused this host: ${message.message}` };
      session.ws.close(1000, 'refused');
    }
  }

  private welcomed(session: Session, welcome: Welcome): void {
    if (this.ended) return;
    clearTimeout(session.timer);
    clearInterval(session.heartbeat);
    session.welcome = welcome;
    this.host = welcome.host;
    this.state = 'connected';
    this.log(`connected to ${this.endpoint} as host ${welcome.host}`);
    session.heartbeat = setInterval(() => this.beat(session), welcome.heartbeatIntervalMs);
    for (const waiter of this.waiters.splice(0)) waiter.resolve(welcome);
    this.emit('connected', welcome);
  }

  private beat(session: Session): void {
    const interval = session.welcome?.heartbeatIntervalMs ?? 0;
    // Heartbeats are one-way; pings find a connection that died without a close (NAT, cable).
    if (Date.now() - session.lastHeard > 3 * interval) {
      session.error = `no answer from the control plane for ${Date.now() - session.lastHeard} ms`;
      session.ws.terminate();
      return;
    }
    this.send({ type: 'heartbeat' });
    session.ws.ping();
    // A connection that lived through a heartbeat interval counts as healthy: back off from the start.
    this.failures = 0;
  }

  private closed(session: Session, code: number, reason: string): void {
    clearTimeout(session.timer);
    clearInterval(session.heartbeat);
    if (this.session === session) this.session = undefined;
    if (this.ended) return;
    if (session.refusal) {
      this.log(session.refusal.message);
      this.finish();
      this.emit('refused', session.refusal);
      this.resolveDone({ reason: 'refused', ...session.refusal });
      return;
    }
    if (session.welcome) this.emit('disconnected', { code, reason });
    const error = session.error ?? `connection closed (${code}${reason ? ` ${reason}` : ''})`;
    const attempt = this.failures++;
    const delayMs = backoffDelay(attempt, this.initialMs, this.maxMs, this.random);
    this.log(`${error}; dialling again in ${delayMs} ms`);
    this.state = 'waiting';
    this.retryTimer = setTimeout(() => this.dial(), delayMs);
    this.emit('retrying', { attempt: attempt + 1, delayMs, error });
  }

  /** Sends on the current connection once hello has gone; drops the message otherwise. */
  private send(message: HostMessage): void {
    const session = this.session;
    if (!session || session.ws.readyState !== WebSocket.OPEN) return;
    if (!session.helloSent && message.type !== 'hello') return;
    session.ws.send(JSON.stringify(message));
  }

  /** End for good: no more dialling, no more jobs taken, waiters told. */
  private finish(): void {
    this.ended = true;
    this.state = 'ended';
    clearTimeout(this.retryTimer);
    this.unsubscribe();
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('the connector has ended'));
  }
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`connector: ${name} must be a number > 0, got ${value}`);
  return value;
}
