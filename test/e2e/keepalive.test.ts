// A client that keeps its connection and polls every 5 s, as the openstack CLI's --wait
// does, must get its answers: the public port outlasts workerd's 5 s idle limit.
import { connect } from 'node:net';
import { describe, expect, inject, it } from 'vitest';

/** Sends one GET on an open socket and resolves with the status line of the answer. */
function get(socket: ReturnType<typeof connect>, path: string): Promise<string> {
  return new Promise((ok, fail) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head))?.[1] ?? 0);
      if (text.length - head - 4 < length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      ok(text.slice(0, text.indexOf('\r\n')));
    };
    const onClose = () => fail(new Error('the connection was closed without an answer'));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe('the public port', () => {
  it('answers on a kept-alive connection after 5 s without a request', async () => {
    const { url } = inject('cloud');
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise((ok) => socket.once('connect', ok));
    expect(await get(socket, '/compute')).toBe('HTTP/1.1 200 OK');
    await new Promise((ok) => setTimeout(ok, 5200));
    expect(await get(socket, '/compute')).toBe('HTTP/1.1 200 OK');
    await new Promise((ok) => setTimeout(ok, 1000));
    expect(await get(socket, '/identity/v3')).toBe('HTTP/1.1 200 OK');
    socket.destroy();
  });
});
