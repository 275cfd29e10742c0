import { Hono } from 'hono';
import type { KeystoneEnv } from '../env';

export const grants = new Hono<KeystoneEnv>();
