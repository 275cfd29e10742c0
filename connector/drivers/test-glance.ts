// A stand-in for Glance, for the drivers' tests: a local HTTP server that takes the JSON
// patch and the data upload of a snapshot's image, and keeps what arrived per image id.
// Requests without the expected token are refused (401), as Glance refuses them.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ImageUpload } from './driver';

export interface ReceivedImage {
  patches: unknown[];
  data?: Buffer;
}

export interface TestGlance {
  /** Where a snapshot to image `id` goes, with the token this server accepts. */
  upload(id: string): ImageUpload;
  readonly images: Map<string, ReceivedImage>;
  close(): Promise<void>;
}

export async function startTestGlance(token = 'test-token'): Promise<TestGlance> {
  const images = new Map<string, ReceivedImage>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/image\/v2\/images\/([^/]+)(\/file)?$/.exec(req.url ?? '');
      if (!m) return void res.writeHead(404).end();
      if (req.headers['x-auth-token'] !== token) return void res.writeHead(401).end();
      const image = images.get(m[1]!) ?? { patches: [] };
      images.set(m[1]!, image);
      const body = Buffer.concat(chunks);
      if (req.method === 'PATCH' && !m[2]) {
        image.patches.push(JSON.parse(body.toString('utf8')) as unknown);
        return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      }
      if (req.method === 'PUT' && m[2]) {
        image.data = body;
        return void res.writeHead(204).end();
      }
      res.writeHead(405).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/image/v2/images`;
  return {
    upload: (id) => ({ imageId: id, imageUrl: `${base}/${id}`, uploadUrl: `${base}/${id}/file`, token }),
    images,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
