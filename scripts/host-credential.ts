// `npm run host:add -- NAME`, `npm run host:list`, `npm run host:revoke -- ID`: host
// credentials through the compute API (os-host-credentials), as an admin of the cloud
// named in clouds.yaml (the local cloud's flarestack-admin by default).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'os-cloud': { type: 'string', default: process.env.OS_CLOUD ?? 'flarestack-admin' },
    'clouds-yaml': { type: 'string', default: process.env.OS_CLIENT_CONFIG_FILE ?? 'clouds.yaml' },
    description: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const [command, arg] = positionals;
if (values.help || !command || !['add', 'list', 'revoke'].includes(command) || (command !== 'list' && !arg)) {
  console.log(`Usage: npm run host:add -- NAME [--description TEXT]
       npm run host:list
       npm run host:revoke -- CREDENTIAL_ID

  --os-cloud NAME      the cloud in clouds.yaml to act as (default flarestack-admin)
  --clouds-yaml PATH   where clouds.yaml is (default ./clouds.yaml, or OS_CLIENT_CONFIG_FILE)`);
  process.exit(values.help ? 0 : 2);
}

interface CloudAuth {
  auth_url: string;
  username: string;
  password: string;
  project_name: string;
  user_domain_name?: string;
  project_domain_name?: string;
}
const clouds = parse(readFileSync(values['clouds-yaml'], 'utf8')) as { clouds: Record<string, { auth: CloudAuth }> };
const auth = clouds.clouds[values['os-cloud']]?.auth;
if (!auth) {
  console.error(`no cloud "${values['os-cloud']}" in ${values['clouds-yaml']}`);
  process.exit(2);
}

const tokenRes = await fetch(`${auth.auth_url.replace(/\/$/, '')}/auth/tokens`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({
    auth: {
      identity: { methods: ['password'], password: { user: { name: auth.username, domain: { name: auth.user_domain_name ?? 'Default' }, password: auth.password } } },
      scope: { project: { name: auth.project_name, domain: { name: auth.project_domain_name ?? 'Default' } } },
    },
  }),
});
if (tokenRes.status !== 201) {
  console.error(`authentication failed: ${tokenRes.status} ${await tokenRes.text()}`);
  process.exit(1);
}
const token = tokenRes.headers.get('X-Subject-Token')!;
const catalog = ((await tokenRes.json()) as { token: { catalog: { type: string; endpoints: { interface: string; url: string }[] }[] } }).token.catalog;
const compute = catalog.find((s) => s.type === 'compute')?.endpoints.find((e) => e.interface === 'public')?.url;
if (!compute) {
  console.error('the catalog has no public compute endpoint');
  process.exit(1);
}

async function request(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${compute}${path}`, {
    method,
    headers: { 'X-Auth-Token': token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) {
    console.error(`${method} ${path}: ${res.status} ${text}`);
    process.exit(1);
  }
  return text ? JSON.parse(text) : null;
}

if (command === 'add') {
  const { host_credential: c } = (await request('POST', '/os-host-credentials', {
    host_credential: { host: arg, ...(values.description ? { description: values.description } : {}) },
  })) as { host_credential: { id: string; host: string; credential: string } };
  console.log(`Host credential ${c.id} for host ${c.host}. It is shown only now:\n\n${c.credential}\n`);
  console.log(`On the host: FLARESTACK_HOST_CREDENTIAL='${c.credential}' node flarestack-connector.cjs --url ${new URL(compute).origin}`);
} else if (command === 'list') {
  const { host_credentials: list } = (await request('GET', '/os-host-credentials')) as {
    host_credentials: { id: string; host: string; created_at: string; description: string | null }[];
  };
  for (const c of list) console.log(`${c.id}  ${c.host}  ${c.created_at}  ${c.description ?? ''}`);
} else {
  await request('DELETE', `/os-host-credentials/${encodeURIComponent(arg!)}`);
  console.log(`Host credential ${arg} revoked; its connector, if connected, was disconnected.`);
}
