import { Hono } from 'hono';
import type { KeystoneEnv } from '../env';

export const roleAssignments = new Hono<KeystoneEnv>();
