import { Hono } from 'hono';
import type { KeystoneEnv } from '../env';

export const roles = new Hono<KeystoneEnv>();
