import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, sshFingerprint, x509Fingerprint } from './ssh-keys';

// Keys made with ssh-keygen, and their fingerprints as `ssh-keygen -l -E md5` prints them.
const KEYS: Record<string, [string, string]> = {
  rsa: [
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDjD2nDKaXNVwuERhl1Zlq3d9j1HHgJmV+z7oXg/17eRRHQKINMznUn9/0gwrWJGyU44xv3wm1nF4ABqumuu/1XXAgo6Stst6i+A0DVHh1Ifyd+JBFkvc+hZ3hkij8pZqebdFpNEgEjXdvoDBSeZHwupoQVwMrUAgDCHD49XousIaiyeDL1BH0Ib9vbvz3PMOf1HYuGyLFGO9hKLRr3PdtlHdO/hEDltBgyJFB0foBvUdnt79IYAnjxEmN/I2JrirvZ3Asz7r1EgwkpdMQBtBEpmq+pkbTlPdwP8TKNKagAQc8P6dGjm+xMib2LA8gBndEXnv0t+0AqtpNNf6+B0edd user@host',
    '2f:3c:f1:82:f2:86:3a:a1:0c:3e:ec:91:1e:e0:49:54',
  ],
  ed25519: [
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKC+Ir8d4PUNHT4fl1tXDsAzZhipZF+Nbx8uhDx9X3Ed user@host',
    'e7:37:5f:e5:ba:ed:4a:21:89:e4:73:4f:c7:eb:e5:d7',
  ],
  ecdsa256: [
    'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMzPYH5rEwAug7D3c9uSa5PLEjB7k9n8mrf1GCvIpvNTTi0xFtz/pNi23xnd+2Ca/wr7+jHN9I54jhXti3sJ5ac= user@host',
    '8b:83:75:4e:8f:8c:7f:0e:22:8f:e4:78:5f:e1:bb:74',
  ],
  ecdsa521: [
    'ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAEgnMnypn6tvukv+aK6U2Iri5FxlMSsA78bzA/iz4ysaNEGjSBDBKUd1MhydXJDLw3uh3qQSFd6Xcpm4OLkoBiGQAHGMRJa82im5N4akONjJWuoyta22Wd4aAgqQA5x527WY8xem+/sk8MBDNwf8iDVGwx9p3i/djynySZCHeofo+hCKw== user@host',
    '84:4a:ed:8a:e5:f3:57:05:92:bb:7a:93:2f:bd:2d:fa',
  ],
  dsa: [
    'ssh-dss AAAAB3NzaC1kc3MAAACBAOeAfHBYLfl8AbmM5TMI9evFvSsNNH8r+AKfJx6Ocbf9i/4GICkMtlm84l4THOatdd1NHDrQsRGyIjiXPQq3E9RckRL2D2cN1TSfT6WsckRwtf2gvOipDr3upA8gwsD0lm6xLPAMduNZXO9xB9g1TFXGNVcpgALI5a33cIv9E7yJAAAAFQC6RMBJPr/9E5rNm9wW/n85E9O79wAAAIB9npIMb0Wj7LiMFI4H3xeEz+k6s15bZakeKVr0nfdfVarkDvf8rWuKOP4B2IbYXgA7avH63gc6PQ03EXOxHnvEmXPl7PM2shNzatCDhbeBPK7Tbon9tkv3tZa1PDlD5OmiwkKvMRrYh3RzOjmogB4KQ7yf06aH3SDp1/qIg91XrQAAAIEAijH83c7PCFDXRorSF2jhiHnDBjbghMT9B1a1BseEkD8vbvsb958L/tk0rpAY6G6OqzpkSl01EVwF7BjdmRSk8IQMvUL5rluuRucDzDnGdunzxqc27h4moJfAbcyumc04bta7FJlUWY5/x0UIQ6jXIMRF2M4iNI2CEnatdi1vX5I= user@host',
    'd0:96:a2:d3:4c:1a:07:aa:91:84:e1:14:bb:33:c7:d1',
  ],
};

// A self-signed certificate (openssl req -x509) and its SHA-1 fingerprint.
const CERT = `-----BEGIN CERTIFICATE-----
MIIB+jCCAWOgAwIBAgIUDokfVScKGJrdxgm9Nx9g+uDW1IUwDQYJKoZIhvcNAQEL
BQAwDzENMAsGA1UEAwwEdGVzdDAeFw0yNjExMjUxOTAzMDhaFw0yNjExMjYxOTAz
MDhaMA8xDTALBgNVBAMMBHRlc3QwgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGB
AMJAB6rw1mG6Y+qWHBcs0bk1w5ZVpkRbtBMzTjflbkWMJ9LwWFQCsvcvAOJbmOfH
gsuL2WeKGf0kGs3oXpyxtaQGkNLa25Jjuwgd647aHJZUxb1Qa5FaNaHdCqMP2tO7
e34u2+Kro0hBNnfKkKNghOeNvWiASxmKDYwMxmfuK9ktAgMBAAGjUzBRMB0GA1Ud
DgQWBBTH3qeeedJMddBkq3QUKhGAWn2+PTAfBgNVHSMEGDAWgBTH3qeeedJMddBk
q3QUKhGAWn2+PTAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4GBAACk
8kA/tpD5EqT9V9Z1Lla3aElVRHrOZtj+u8mBoIbzGGzTUbkMExbfD7WVD9Q0IZgY
4BgkovMoDjFCSm91DyrILudgHSeZkf3dtFzrOJZo6rJv8UCHjUbBHCRfKQLOACGp
24WSk3bkamiuWKO16WqiKm9Jn3tSzV1nM83R9jk2
-----END CERTIFICATE-----
`;
const CERT_SHA1 = '4c:f2:73:8d:09:ce:56:4c:ac:af:f4:fd:14:11:43:ab:5c:4f:22:bc';

describe('sshFingerprint', () => {
  it('fingerprints every OpenSSH key type as ssh-keygen does (MD5)', () => {
    for (const [name, [key, fingerprint]] of Object.entries(KEYS)) {
      expect(sshFingerprint(key), name).toBe(fingerprint);
      expect(sshFingerprint(`${key}\n`), `${name} with a newline`).toBe(fingerprint);
      expect(sshFingerprint(key.split(' ').slice(0, 2).join(' ')), `${name} without a comment`).toBe(fingerprint);
    }
  });

  it('refuses what is not a public key', () => {
    const [rsa] = KEYS.rsa!;
    const body = rsa.split(' ')[1]!;
    for (const bad of [
      '', 'ssh-rsa', 'not a key', `ssh-ed25519 ${body}`, `ssh-rsa ${body.slice(0, -8)}`, `ssh-rsa ${body}AAAA`,
      'ssh-rsa !!!!', '-----BEGIN PUBLIC KEY-----', `foo-bar ${body}`,
    ]) {
      expect(sshFingerprint(bad), bad).toBeNull();
    }
  });
});

describe('x509Fingerprint', () => {
  it('takes the SHA-1 of the DER certificate', () => {
    expect(x509Fingerprint(CERT)).toEqual({ fingerprint: CERT_SHA1 });
  });

  it('refuses what is not a certificate', () => {
    expect(x509Fingerprint('garbage')).toHaveProperty('error');
    expect(x509Fingerprint('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toHaveProperty('error');
    expect(x509Fingerprint(KEYS.rsa![0])).toHaveProperty('error');
  });
});

describe('generateKeyPair', () => {
  it('makes an RSA key pair: a PKCS#1 PEM private key matching an ssh-rsa public key', async () => {
    const pair = await generateKeyPair();
    expect(pair.privateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END RSA PRIVATE KEY-----\n$/);
    expect(pair.publicKey).toMatch(/^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/=]+ Generated-by-Nova$/);
    expect(sshFingerprint(pair.publicKey)).toBe(pair.fingerprint);
    // The private key's public half is the one in the ssh-rsa line.
    const priv = createPrivateKey({ key: pair.privateKey, format: 'pem' });
    expect(priv.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const jwk = createPublicKey(priv).export({ format: 'jwk' });
    const blob = Buffer.from(pair.publicKey.split(' ')[1]!, 'base64');
    const n = Buffer.from(jwk.n!, 'base64url');
    expect(blob.includes(n)).toBe(true);
  });
});
