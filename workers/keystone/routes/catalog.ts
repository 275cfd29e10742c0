import { Hono } from 'hono';
import type { KeystoneEnv } from '../env';

export const catalog = new Hono<KeystoneEnv>();
