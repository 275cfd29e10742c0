import { Hono } from 'hono';
import type { KeystoneEnv } from '../env';

export const groups = new Hono<KeystoneEnv>();
