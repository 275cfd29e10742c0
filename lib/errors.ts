// OpenStack error bodies. Every service throws ApiError; each service's onError
// renders it in that service's own shape, so clients parse the message they expect.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const unauthorized = (message = 'The request you have made requires authentication.') =>
  new ApiError(401, message);
export const forbidden = (message = 'You are not authorized to perform the requested action.') =>
  new ApiError(403, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);

/** The body shapes of the OpenStack services. */
export type ErrorStyle = 'keystone' | 'nova' | 'neutron' | 'cinder' | 'glance' | 'swift';

export function errorBody(style: ErrorStyle, status: number, message: string): unknown {
  const title = TITLES[status] ?? 'Error';
  switch (style) {
    case 'keystone':
      return { error: { code: status, title, message } };
    case 'nova':
    case 'cinder': {
      // Nova's fault names (nova/api/openstack/wsgi.py); any other status is a computeFault.
      const key =
        { 400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod', 409: 'conflictingRequest',
          413: 'overLimit', 415: 'badMediaType', 429: 'overLimit', 501: 'notImplemented', 503: 'serviceUnavailable' }[status] ?? 'computeFault';
      return { [key]: { code: status, message } };
    }
    case 'neutron':
      return { NeutronError: { type: title.replace(/ /g, ''), message, detail: '' } };
    case 'glance':
      return { code: status, title, message };
    case 'swift':
      return `<html><h1>${title}</h1><p>${escapeHtml(message)}</p></html>`;
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** An error response in a service's shape: Swift's is a short HTML page, the others JSON. */
export function errorResponse(style: ErrorStyle, status: number, message: string, headers: Record<string, string> = {}): Response {
  const body = errorBody(style, status, message);
  if (typeof body === 'string') {
    return new Response(body, { status, headers: { ...headers, 'Content-Type': 'text/html; charset=UTF-8' } });
  }
  return Response.json(body, { status, headers });
}

// Through the context, so headers set on it (WWW-Authenticate) go out too.
function render(c: Context, style: ErrorStyle, status: ContentfulStatusCode, message: string): Response {
  const body = errorBody(style, status, message);
  if (typeof body === 'string') return c.body(body, status, { 'Content-Type': 'text/html; charset=UTF-8' });
  return c.json(body, status);
}

/** Renders a thrown error in a service's style; unexpected errors are a 500 without internals. */
export function onError(style: ErrorStyle, authUrl?: (c: Context) => string): ErrorHandler {
  return (err, c) => {
    let status: ContentfulStatusCode = 500;
    let message = 'An unexpected error prevented the server from fulfilling your request.';
    const headers: Record<string, string> = {};
    if (err instanceof ApiError) {
      status = err.status;
      message = err.message;
      Object.assign(headers, err.headers);
    } else if (err instanceof HTTPException) {
      status = err.status;
      message = err.message || TITLES[status] || message;
    } else {
      console.error(`${c.req.method} ${new URL(c.req.url).pathname}:`, err);
    }
    if (status === 401 && authUrl) headers['WWW-Authenticate'] = `Keystone uri="${authUrl(c)}"`;
    for (const [k, v] of Object.entries(headers)) c.header(k, v);
    return render(c, style, status, message);
  };
}

export function onNotFound(style: ErrorStyle): NotFoundHandler {
  return (c) => render(c, style, 404, 'The resource could not be found.');
}
