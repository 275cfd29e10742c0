// /v1/<account>/<container>: create (201, or 202 when it exists), metadata, listing, delete.
import type { Context } from 'hono';
import { ApiError, notFound } from '../../../lib/errors';
import type { ContainerRecord } from '../../../durable-objects/swift-account';
import { authorizeSwift, cleanContainerAcls, hideOwnerHeaders } from '../access';
import type { SwiftEnv } from '../env';
import { httpDate, metadataUpdate, swiftTimestamp, titleCase } from '../headers';
import { listedObject, listingResponse, listQuery } from '../listing';
import type { SwiftPath } from '../names';
import { accountStub, deleteContainer } from '../storage';

type C = Context<SwiftEnv>;
type Target = SwiftPath & { container: string };

export const NOT_FOUND = 'The resource could not be found.';

function containerHeaders(r: ContainerRecord): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Container-Object-Count': String(r.objectCount),
    'X-Container-Bytes-Used': String(r.bytesUsed),
    'X-Timestamp': r.timestamp,
    'X-Put-Timestamp': r.putTimestamp,
    'Last-Modified': httpDate(r.putTimestamp),
    'X-Storage-Policy': 'Policy-0',
    'Accept-Ranges': 'bytes',
  };
  for (const [name, value] of Object.entries(r.metadata)) headers[titleCase(name)] = value;
  return headers;
}

async function put(c: C, path: Target): Promise<Response> {
  await authorizeSwift(c, 'container:write', path);
  const update = metadataUpdate(c.req.raw.headers, 'container');
  cleanContainerAcls(update.set);
  const { created } = await accountStub(c.env, path.account).putContainer(path.container, update, swiftTimestamp());
  return new Response(null, { status: created ? 201 : 202, headers: { 'Content-Type': 'text/html; charset=UTF-8', 'Content-Length': '0' } });
}

async function head(c: C, path: Target): Promise<Response> {
  await authorizeSwift(c, 'container:read', path);
  const record = await accountStub(c.env, path.account).getContainer(path.container);
  if (!record) throw notFound(NOT_FOUND);
  return new Response(null, { status: 204, headers: { ...hideOwnerHeaders(c, containerHeaders(record)), 'Content-Type': 'text/plain; charset=utf-8' } });
}

async function get(c: C, path: Target): Promise<Response> {
  if (c.req.method === 'HEAD') return head(c, path);
  await authorizeSwift(c, 'container:list', path);
  const query = listQuery(c);
  const stub = accountStub(c.env, path.account);
  const [record, entries] = await Promise.all([stub.getContainer(path.container), stub.listObjects(path.container, query)]);
  if (!record || !entries) throw notFound(NOT_FOUND);
  const listed = entries.map((e) => ('subdir' in e ? e : listedObject(e)));
  return listingResponse(c, 'container', path.container, listed, hideOwnerHeaders(c, containerHeaders(record)));
}

async function post(c: C, path: Target): Promise<Response> {
  await authorizeSwift(c, 'container:write', path);
  const update = metadataUpdate(c.req.raw.headers, 'container');
  cleanContainerAcls(update.set);
  if (!(await accountStub(c.env, path.account).updateContainerMetadata(path.container, update))) throw notFound(NOT_FOUND);
  return new Response(null, { status: 204 });
}

async function remove(c: C, path: Target): Promise<Response> {
  await authorizeSwift(c, 'container:write', path);
  const result = await deleteContainer(c.env, path.account, path.container);
  if (result === 'not_found') throw notFound(NOT_FOUND);
  if (result === 'not_empty') throw new ApiError(409, 'There was a conflict when trying to complete your request.');
  return new Response(null, { status: 204 });
}

export const containerRoutes: Record<string, (c: C, path: Target) => Promise<Response>> = {
  PUT: put, HEAD: head, GET: get, POST: post, DELETE: remove,
};
