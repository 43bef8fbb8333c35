import { createHmac, timingSafeEqual } from 'node:crypto';

export const CONSENT_CHANNELS = ['email', 'sms'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

// An unsubscribe token is `<payload>.<mac>`, both base64url: the payload is the contact id's 16 bytes
// and one channel byte, the MAC an HMAC-SHA256 of those 17 bytes. About 67 characters, so links stay
// short. Tokens never expire: a campaign mail read years later must still unsubscribe.

/**
 * The key of unsubscribe links, derived from the service's signing secret with a label of its own:
 * an unsubscribe token can never pass for an access token or a webhook signature, and the reverse.
 */
export function unsubscribeKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('headless-crm unsubscribe link v1').digest();
}

const mac = (key: Buffer, payload: Buffer) => createHmac('sha256', key).update(payload).digest();

export function signUnsubscribeToken(key: Buffer, contactId: string, channel: ConsentChannel): string {
  const id = Buffer.from(contactId.replaceAll('-', ''), 'hex');
  if (id.length !== 16) throw new Error('contactId must be a UUID');
  const payload = Buffer.concat([id, Buffer.from([CONSENT_CHANNELS.indexOf(channel)])]);
  return `${payload.toString('base64url')}.${mac(key, payload).toString('base64url')}`;
}

/** The contact and channel a token names, or undefined when it is malformed or its MAC is wrong. */
export function verifyUnsubscribeToken(key: Buffer, token: string): { contactId: string; channel: ConsentChannel } | undefined {
  const parts = token.split('.');
  if (parts.length !== 2 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  const payload = Buffer.from(parts[0] as string, 'base64url');
  const given = Buffer.from(parts[1] as string, 'base64url');
  const expected = mac(key, payload);
  // base64url decoding ignores a last character's spare bits: only the canonical spelling is accepted
  if (payload.toString('base64url') !== parts[0] || given.toString('base64url') !== parts[1]) return undefined;
  if (payload.length !== 17 || given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const channel = CONSENT_CHANNELS[payload[16] as number];
  if (!channel) return undefined;
  const hex = payload.subarray(0, 16).toString('hex');
  return { contactId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`, channel };
}
