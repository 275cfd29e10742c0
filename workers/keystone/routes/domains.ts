import { Hono } from 'hono';
import type { KeystoneEnv } from '../env';

export const domains = new Hono<KeystoneEnv>();
