import { Hono } from 'hono';
import type { KeystoneEnv } from '../env';

export const applicationCredentials = new Hono<KeystoneEnv>();
