// Request bodies are checked against zod schemas, never by hand. A body that is not
// JSON, has unknown fields or wrong types is a 400 in the service's error shape.
import type { Context } from 'hono';
import { z } from 'zod';
import { badRequest } from './errors';

export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') throw badRequest('The request body is empty; a JSON body is required.');
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('Malformed request body: it is not valid JSON.');
  }
}

export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  let detail = issue.message;
  if (issue.code === 'unrecognized_keys') detail = `Additional properties are not allowed (${issue.keys.map((k) => `'${k}'`).join(', ')} unexpected)`;
  throw badRequest(field ? `Invalid input for field '${field}': ${detail}` : `Invalid input: ${detail}`);
}

/** Reads and validates a JSON request body. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  return validate(schema, await readJson(c));
}
