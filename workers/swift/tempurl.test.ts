// Temp URL signatures, checked against URLs made by python-swiftclient's generate_temp_url
// (swiftclient 4.1, key 'k3y', expiry 2000000000) and the Swift documentation's example.
import { describe, expect, it } from 'vitest';
import {
  ipInRange,
  keysFromMetadata,
  normalizeSignature,
  parseExpires,
  pyQuote,
  tempUrlDisposition,
  tempUrlParams,
  verifyTempUrl,
  type ScopedKey,
} from './tempurl';

const NOW = 1_900_000_000;
const ACCOUNT_KEY: ScopedKey[] = [{ key: 'k3y', scope: 'account' }];

function params(url: string) {
  const p = tempUrlParams(new URL(url, 'http://x').searchParams, NOW);
  if (p === null || p === 'invalid') throw new Error(`not a valid temp URL: ${url}`);
  return p;
}

const verify = (url: string, over: Partial<Parameters<typeof verifyTempUrl>[0]> = {}) =>
  verifyTempUrl({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o', params: params(url), keys: ACCOUNT_KEY, ...over });

// Made by generate_temp_url('/v1/AUTH_test/c/o', 2000000000, 'k3y', METHOD, absolute=True, ...).
const SHA1_GET = '/v1/AUTH_test/c/o?temp_url_sig=4648454dc1b52336ab30d320760c24a46f0c86c8&temp_url_expires=2000000000';
const SHA256_GET = '/v1/AUTH_test/c/o?temp_url_sig=b4f09acc0c05e58705efd8ce2d7ac6f0b32653b139b73474c527ba94024a2cfd&temp_url_expires=2000000000';
const SHA512_GET =
  '/v1/AUTH_test/c/o?temp_url_sig=sha512:Ci2oBnaGicu2DDN2OAk-T-8LAFpBmjk5i5evCvrFIOlrEWkPoIS-CtdoTtNhoKSi74a0iLikcIf05CI_l1XVgQ&temp_url_expires=2000000000';
const PREFIX_GET =
  '/v1/AUTH_test/c/pre?temp_url_sig=2654fb86d7051b267403243defe101104eb765387ba764cf545bab20fa1891f4&temp_url_expires=2000000000&temp_url_prefix=pre';
const ISO_PUT = '/v1/AUTH_test/c/o?temp_url_sig=066f6b084aff4c62d2efbea4f33f2c299c2365ebf19bc2018bc32cf820fe348e&temp_url_expires=2033-05-18T03:33:20Z';
const IP_GET =
  '/v1/AUTH_test/c/o?temp_url_sig=03885bd04a5869846cfca4fdb91cfb66becbb928f908e1d766cd1b71a6709318&temp_url_expires=2000000000&temp_url_ip_range=10.0.0.0/8';

describe('temp URL signatures', () => {
  it('accepts HMAC-SHA1, SHA256 and SHA512 signatures made by swiftclient', async () => {
    expect(await verify(SHA1_GET)).toBe('account');
    expect(await verify(SHA256_GET)).toBe('account');
    expect(await verify(SHA512_GET)).toBe('account');
  });

  it('checks the Swift documentation’s SHA512 example (standard base64, padded)', async () => {
    const url =
      '/v1/AUTH_account/container/object?temp_url_sig=sha512:ZrSijn0GyDhsv1ltIj9hWUTrbAeE45NcKXyBaz7aPbSMvROQ4jtYH4nRAmm5ErY2X11Yc1Yhy2OMCyN3yueeXg%3D%3D&temp_url_expires=1516741234';
    const p = tempUrlParams(new URL(url, 'http://x').searchParams, 1_516_741_000);
    if (p === null || p === 'invalid') throw new Error('parse');
    const scope = await verifyTempUrl({ method: 'GET', account: 'AUTH_account', container: 'container', object: 'object', params: p, keys: [{ key: 'mykey', scope: 'account' }] });
    expect(scope).toBe('account');
  });

  it('refuses a wrong key, another object, another method, and a tampered signature', async () => {
    expect(await verify(SHA256_GET, { keys: [{ key: 'other', scope: 'account' }] })).toBeNull();
    expect(await verify(SHA256_GET, { object: 'o2' })).toBeNull();
    expect(await verify(SHA256_GET, { container: 'd' })).toBeNull();
    expect(await verify(SHA256_GET, { account: 'AUTH_other' })).toBeNull();
    expect(await verify(SHA256_GET, { method: 'PUT' })).toBeNull();
    expect(await verify(SHA256_GET, { method: 'DELETE' })).toBeNull();
    expect(await verify(SHA256_GET.replace('b4f0', 'b4f1'))).toBeNull();
    expect(await verify(SHA256_GET, { keys: [] })).toBeNull();
  });

  it('lets HEAD through with a GET, PUT or POST signature, as the middleware does', async () => {
    expect(await verify(SHA256_GET, { method: 'HEAD' })).toBe('account');
    expect(await verify(ISO_PUT, { method: 'HEAD' })).toBe('account');
  });

  it('accepts ISO 8601 expiry, signed over the Unix time', async () => {
    expect(parseExpires('2033-05-18T03:33:20Z')).toBe(2_000_000_000);
    expect(await verify(ISO_PUT, { method: 'PUT' })).toBe('account');
    expect(await verify(ISO_PUT, { method: 'GET' })).toBeNull();
  });

  it('reports which key signed: account or container scope, either of two keys', async () => {
    const keys: ScopedKey[] = [
      { key: 'a1', scope: 'account' },
      { key: 'a2', scope: 'account' },
      { key: 'k3y', scope: 'container' },
    ];
    expect(await verify(SHA1_GET, { keys })).toBe('container');
    expect(await verify(SHA1_GET, { keys: [{ key: 'x', scope: 'account' }, { key: 'k3y', scope: 'account' }] })).toBe('account');
  });

  it('checks prefix-based URLs against objects under the prefix only', async () => {
    expect(await verify(PREFIX_GET, { object: 'pre' })).toBe('account');
    expect(await verify(PREFIX_GET, { object: 'prefix/deep/object' })).toBe('account');
    expect(await verify(PREFIX_GET, { object: 'other' })).toBeNull();
    // The same signature without temp_url_prefix is for an object named "pre" only.
    expect(await verify(PREFIX_GET.replace('&temp_url_prefix=pre', ''), { object: 'pre' })).toBeNull();
  });

  it('accepts a signature made over the full storage-URL path under the service prefix', async () => {
    const { createHmac } = await import('node:crypto');
    const sig = createHmac('sha256', 'k3y').update('GET\n2000000000\n/object-storage/v1/AUTH_test/c/o').digest('hex');
    const url = `/x?temp_url_sig=${sig}&temp_url_expires=2000000000`;
    expect(await verify(url, { mounts: ['', '/object-storage'] })).toBe('account');
    expect(await verify(url, { mounts: [''] })).toBeNull();
  });

  it('binds an ip range into the signature and checks the client address', async () => {
    expect(await verify(IP_GET, { clientAddress: '10.1.2.3' })).toBe('account');
    expect(await verify(IP_GET, { clientAddress: '11.1.2.3' })).toBeNull();
    expect(await verify(IP_GET)).toBeNull();
    expect(await verify(IP_GET.replace('10.0.0.0/8', '10.0.0.0/16'), { clientAddress: '10.0.2.3' })).toBeNull();
    expect(ipInRange('1.2.3.4', '1.2.3.4')).toBe(true);
    expect(ipInRange('1.2.3.5', '1.2.3.0/24')).toBe(true);
    expect(ipInRange('1.2.4.5', '1.2.3.0/24')).toBe(false);
    expect(ipInRange('1.2.3.5', '1.2.3.1/24')).toBe(false); // host bits set: ip_network refuses it
  });
});

describe('temp URL parameters', () => {
  it('is not a temp URL without either parameter', () => {
    expect(tempUrlParams(new URLSearchParams('format=json'), NOW)).toBeNull();
  });

  it('is invalid with only one of them, an unparsable or a past expiry', () => {
    expect(tempUrlParams(new URLSearchParams('temp_url_sig=abc'), NOW)).toBe('invalid');
    expect(tempUrlParams(new URLSearchParams('temp_url_expires=2000000000'), NOW)).toBe('invalid');
    expect(tempUrlParams(new URLSearchParams('temp_url_sig=abc&temp_url_expires=soon'), NOW)).toBe('invalid');
    expect(tempUrlParams(new URLSearchParams(`temp_url_sig=abc&temp_url_expires=${NOW - 1}`), NOW)).toBe('invalid');
    expect(tempUrlParams(new URLSearchParams('temp_url_sig=abc&temp_url_expires=2001-01-01T00:00:00Z'), NOW)).toBe('invalid');
    expect(parseExpires('2033-02-30T00:00:00Z')).toBe(0);
  });

  it('reads filename, inline and prefix', () => {
    const p = tempUrlParams(new URLSearchParams('temp_url_sig=s&temp_url_expires=2000000000&filename=My+File.pdf&inline&temp_url_prefix=a/'), NOW);
    expect(p).toEqual({ sig: 's', expires: 2_000_000_000, prefix: 'a/', filename: 'My File.pdf', inline: true, ipRange: undefined });
  });
});

describe('signature forms', () => {
  it('takes 40 or 64 hex digits as SHA1 or SHA256, and base64 with a digest prefix', () => {
    expect(normalizeSignature('a'.repeat(40))).toEqual({ digest: 'sha1', hex: 'a'.repeat(40) });
    expect(normalizeSignature('a'.repeat(64))).toEqual({ digest: 'sha256', hex: 'a'.repeat(64) });
    expect(normalizeSignature('sha256:' + Buffer.from('a'.repeat(64), 'hex').toString('base64url'))).toEqual({ digest: 'sha256', hex: 'a'.repeat(64) });
    expect(normalizeSignature('sha1:qqqqqqqqqqqqqqqqqqqqqqqqqqo=')?.hex).toBe('a'.repeat(40));
  });

  it('refuses SHA512 in hex, an unknown digest, odd lengths and bad base64', () => {
    expect(normalizeSignature('a'.repeat(128))).toBeNull();
    expect(normalizeSignature('a'.repeat(41))).toBeNull();
    expect(normalizeSignature('z'.repeat(40))).toBeNull();
    expect(normalizeSignature('md5:qqqqqqqqqqqqqqqqqqqqqg')).toBeNull();
    expect(normalizeSignature('sha256:not base64!')).toBeNull();
  });
});

describe('keys and response headers', () => {
  it('finds both keys in account and container metadata', () => {
    expect(keysFromMetadata({ 'x-account-meta-temp-url-key': 'a', 'x-account-meta-temp-url-key-2': 'b', 'x-account-meta-other': 'c' }, 'account')).toEqual([
      { key: 'a', scope: 'account' },
      { key: 'b', scope: 'account' },
    ]);
    expect(keysFromMetadata({ 'X-Container-Meta-Temp-URL-Key': 'k' }, 'container')).toEqual([{ key: 'k', scope: 'container' }]);
    expect(keysFromMetadata(undefined, 'container')).toEqual([]);
  });

  it('names the download as the middleware does', () => {
    expect(tempUrlDisposition({ inline: false }, 'dir/report 1.pdf')).toBe(`attachment; filename="report 1.pdf"; filename*=UTF-8''report%201.pdf`);
    expect(tempUrlDisposition({ inline: true }, 'o')).toBe('inline');
    expect(tempUrlDisposition({ inline: true, filename: 'a b' }, 'o')).toBe(`inline; filename="a b"; filename*=UTF-8''a%20b`);
    expect(tempUrlDisposition({ inline: false, filename: 'é' }, 'o')).toBe(`attachment; filename="%C3%A9"; filename*=UTF-8''%C3%A9`);
    expect(tempUrlDisposition({ inline: false }, 'o', 'attachment; filename=x')).toBe('attachment; filename=x');
    expect(pyQuote('a/b c~')).toBe('a/b%20c~');
  });
});
