// API microversions, as Nova, Cinder and others negotiate them: the client asks with
// `OpenStack-API-Version: <service> X.Y` (or a service's legacy header), "latest" means
// the maximum, no header means the minimum; the answer echoes the version used and Vary.
import type { MiddlewareHandler } from 'hono';
import { ApiError, badRequest } from './errors';

export class ApiVersion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  static parse(text: string): ApiVersion | null {
    const m = /^([1-9]\d*)\.(0|[1-9]\d*)$/.exec(text.trim());
    return m ? new ApiVersion(Number(m[1]), Number(m[2])) : null;
  }

  compare(other: ApiVersion | string): number {
    const o = typeof other === 'string' ? ApiVersion.parse(other)! : other;
    return this.major - o.major || this.minor - o.minor;
  }

  /** True when this request's version is `version` or newer. */
  atLeast(version: string): boolean {
    return this.compare(version) >= 0;
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export type MicroversionVariables = { version: ApiVersion };

export interface MicroversionOptions {
  /** The service type in OpenStack-API-Version, e.g. "compute". */
  service: string;
  min: string;
  max: string;
  /** An older per-service header also read and echoed, e.g. X-OpenStack-Nova-API-Version. */
  legacyHeader?: string;
}

/** Reads the requested version from a header value like "compute 2.60, volume 3.1". */
function requested(header: string | undefined, service: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split(/\s+/, 2);
    if (name?.toLowerCase() === service && value) return value;
  }
  return undefined;
}

export function microversion(opts: MicroversionOptions): MiddlewareHandler<{ Variables: MicroversionVariables }> {
  const min = ApiVersion.parse(opts.min);
  const max = ApiVersion.parse(opts.max);
  if (!min || !max || min.compare(max) > 0) throw new Error(`microversion: bad range ${opts.min}..${opts.max}`);
  const vary = opts.legacyHeader ? `OpenStack-API-Version, ${opts.legacyHeader}` : 'OpenStack-API-Version';
  const echo = (headers: Headers, v: ApiVersion): void => {
    headers.set('OpenStack-API-Version', `${opts.service} ${v}`);
    if (opts.legacyHeader) headers.set(opts.legacyHeader, String(v));
    headers.set('Vary', vary);
  };
  return async (c, next) => {
    const asked = requested(c.req.header('OpenStack-API-Version'), opts.service) ?? (opts.legacyHeader ? c.req.header(opts.legacyHeader) : undefined);
    let version = min;
    if (asked !== undefined) {
      if (asked.trim().toLowerCase() === 'latest') version = max;
      else {
        const v = ApiVersion.parse(asked);
        if (!v) throw badRequest(`API Version String ${asked} is of invalid format. Must be of format MajorNum.MinorNum.`);
        if (v.compare(min) < 0 || v.compare(max) > 0) {
          throw new ApiError(406, `Version ${asked} is not supported by the API. Minimum is ${min} and maximum is ${max}.`);
        }
        version = v;
      }
    }
    c.set('version', version);
    await next();
    // Hono has rendered any error into c.res by now, so error bodies get the headers too.
    echo(c.res.headers, version);
  };
}
