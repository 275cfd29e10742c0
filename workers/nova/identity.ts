// Nova's identity.verify_project_id: asks Keystone, with the caller's token, whether a
// project exists. Only a definite 404 is an error; when Keystone cannot say (403, an
// outage) the project is taken to exist, as Nova does.
import type { Context } from 'hono';
import { badRequest } from '../../lib/errors';
import type { NovaEnv } from './env';

export async function verifyProjectId(c: Context<NovaEnv>, projectId: string): Promise<void> {
  let status: number;
  try {
    const res = await c.env.KEYSTONE.fetch(`http://keystone/identity/v3/projects/${encodeURIComponent(projectId)}`, {
      headers: { 'X-Auth-Token': c.var.auth.token, Accept: 'application/json' },
    });
    status = res.status;
    await res.body?.cancel();
  } catch (err) {
    console.warn(`Unable to contact keystone to verify project_id ${projectId}:`, err);
    return;
  }
  if (status === 404) throw badRequest(`Project ID ${projectId} is not a valid project.`);
}
