// Swift's ?heartbeat=on (slo.py handle_multipart_put): a long request answers 202
// Accepted at once and sends a space now and then to keep the connection open while it
// works; its real outcome follows a blank line, in the body format the Accept header chose.
import { ApiError, errorBody } from '../../lib/errors';
import { statusLine, type OutFormat } from './routes/bulk';

/** Seconds between spaces at most: Swift's yield_frequency default. */
export const YIELD_FREQUENCY = 10;

/** What a heartbeat body reports: "Response Status", "Response Body" and the like, and the failures. */
export interface Outcome {
  fields: Record<string, string>;
  errors: [string, string][];
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Swift's get_heartbeat_response_body: JSON, XML (no declaration) or text with sorted keys. */
export function heartbeatBody(format: OutFormat, { fields, errors }: Outcome, root: string): string {
  if (format === 'application/json') return JSON.stringify({ ...fields, Errors: errors });
  const keys = Object.keys(fields).sort();
  if (format.endsWith('/xml')) {
    const tags = keys.map((k) => {
      const tag = k.replace(/ /g, '_').toLowerCase();
      return `<${tag}>${xmlEscape(fields[k]!)}</${tag}>\n`;
    });
    const objects = errors.map(([n, s]) => `<object><name>${xmlEscape(n)}</name><status>${xmlEscape(s)}</status></object>\n`);
    return `<${root}>\n${tags.join('')}<errors>\n${objects.join('')}</errors>\n</${root}>\n`;
  }
  return keys.map((k) => `${k}: ${fields[k]}\n`).join('') + 'Errors:\n' + errors.map(([n, s]) => `${n}, ${s}\n`).join('');
}

/** swob's RESPONSE_REASONS (title, explanation), for an outcome with no body of its own. */
const REASONS: Record<number, [string, string]> = {
  400: ['Bad Request', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
};

/** An outcome with no body: Swift reports the status's title and explanation instead. */
export const bodilessOutcome = (status: number, errors: [string, string][] = []): Outcome => ({
  fields: { 'Response Status': statusLine(status), 'Response Body': (REASONS[status] ?? ['']).join('\n') },
  errors,
});

/** An error thrown while working: its status and the body it would have been sent with. */
function errorOutcome(err: unknown): Outcome {
  if (err instanceof ApiError) {
    return { fields: { 'Response Status': statusLine(err.status), 'Response Body': String(errorBody('swift', err.status, err.message)) }, errors: [] };
  }
  console.error('swift: heartbeat work failed:', err instanceof Error ? err.message : err);
  return { fields: { 'Response Status': statusLine(500), 'Response Body': '' }, errors: [] };
}

/**
 * The 202 response of a heartbeat request. work runs after it is sent and calls beat()
 * as it gets on (after each segment HEAD, in Swift): a space goes out when the last one
 * is more than YIELD_FREQUENCY seconds old. Then "\r\n\r\n" and the outcome close the body.
 */
export function heartbeatResponse(
  format: OutFormat, root: string, work: (beat: () => void) => Promise<Outcome>, waitUntil: (p: Promise<unknown>) => void,
): Response {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  // A client that went away fails the writes; the work still ends (the manifest is stored or not).
  const send = (text: string) => writer.write(encoder.encode(text)).catch(() => undefined);
  let last = Date.now();
  const beat = () => {
    if (Date.now() - last <= YIELD_FREQUENCY * 1000) return;
    last = Date.now();
    void send(' ');
  };
  waitUntil((async () => {
    void send(' '); // at once, so the client sees the 202 before any work is done
    const outcome = await work(beat).catch(errorOutcome);
    await send(`\r\n\r\n${heartbeatBody(format, outcome, root)}`);
    await writer.close().catch(() => undefined);
  })());
  return new Response(readable, { status: 202, headers: { 'Content-Type': format } });
}
