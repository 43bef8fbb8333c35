import { createHash, randomBytes } from 'node:crypto';

/** A random token with a readable prefix: `crm_…` API keys, refresh tokens. 256 bits of entropy. */
export const newSecret = (prefix = '') => `${prefix}${randomBytes(32).toString('base64url')}`;

/** Tokens and keys are stored only as this hash; they are random, so no salt or slow hash is needed. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
