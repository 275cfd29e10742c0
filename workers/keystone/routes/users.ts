import { Hono } from 'hono';
import type { KeystoneEnv } from '../env';

export const users = new Hono<KeystoneEnv>();
