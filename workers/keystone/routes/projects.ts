import { Hono } from 'hono';
import type { KeystoneEnv } from '../env';

export const projects = new Hono<KeystoneEnv>();
