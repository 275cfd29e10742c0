// /v1/AUTH_<project>: the account. HEAD and GET (its container listing) answer for an
// account that never had anything too, with zeros: Swift creates accounts for their owner.
import type { Context } from 'hono';
import type { AccountInfo } from '../../../durable-objects/swift-account';
import { authorizeSwift, hideOwnerHeaders } from '../access';
import type { SwiftEnv } from '../env';
import { metadataUpdate, swiftTimestamp, titleCase, httpDate } from '../headers';
import { listingResponse, listQuery } from '../listing';
import type { SwiftPath } from '../names';
import { accountStub } from '../storage';

type C = Context<SwiftEnv>;

function accountHeaders(a: AccountInfo): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Account-Container-Count': String(a.containerCount),
    'X-Account-Object-Count': String(a.objectCount),
    'X-Account-Bytes-Used': String(a.bytesUsed),
    'X-Account-Storage-Policy-Policy-0-Container-Count': String(a.containerCount),
    'X-Account-Storage-Policy-Policy-0-Object-Count': String(a.objectCount),
    'X-Account-Storage-Policy-Policy-0-Bytes-Used': String(a.bytesUsed),
    'X-Timestamp': a.timestamp,
    'X-Put-Timestamp': a.timestamp,
    'Last-Modified': httpDate(a.timestamp),
    'Accept-Ranges': 'bytes',
  };
  for (const [name, value] of Object.entries(a.metadata)) headers[titleCase(name)] = value;
  return headers;
}

async function head(c: C, path: SwiftPath): Promise<Response> {
  await authorizeSwift(c, 'account:read', path);
  const info = await accountStub(c.env, path.account).getAccountInfo();
  return new Response(null, { status: 204, headers: { ...hideOwnerHeaders(c, accountHeaders(info)), 'Content-Type': 'text/plain; charset=utf-8' } });
}

async function get(c: C, path: SwiftPath): Promise<Response> {
  if (c.req.method === 'HEAD') return head(c, path);
  await authorizeSwift(c, 'account:read', path);
  const query = listQuery(c);
  const stub = accountStub(c.env, path.account);
  const [info, entries] = await Promise.all([stub.getAccountInfo(), stub.listContainers(query)]);
  return listingResponse(c, 'account', path.account, entries, hideOwnerHeaders(c, accountHeaders(info)));
}

async function post(c: C, path: SwiftPath): Promise<Response> {
  await authorizeSwift(c, 'account:write', path);
  const update = metadataUpdate(c.req.raw.headers, 'account');
  const info = await accountStub(c.env, path.account).updateAccountMetadata(update, swiftTimestamp());
  return new Response(null, { status: 204, headers: hideOwnerHeaders(c, accountHeaders(info)) });
}

export const accountRoutes: Record<string, (c: C, path: SwiftPath) => Promise<Response>> = { GET: get, HEAD: head, POST: post };
