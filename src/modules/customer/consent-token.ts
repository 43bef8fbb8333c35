import { keyFor, signIdToken, verifyIdToken } from '../../platform/auth/id-token.js';

export const CONSENT_CHANNELS = ['email', 'sms'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

// An unsubscribe token names the contact and the channel (platform/auth/id-token.ts). Tokens never
// expire: a campaign mail read years later must still unsubscribe.

/** The key of unsubscribe links: an unsubscribe token can never pass for an access token or a webhook signature. */
export const unsubscribeKey = (secret: string): Buffer => keyFor(secret, 'headless-crm unsubscribe link v1');

export function signUnsubscribeToken(key: Buffer, contactId: string, channel: ConsentChannel): string {
  if (!/^[0-9a-f-]{36}$/i.test(contactId)) throw new Error('contactId must be a UUID');
  return signIdToken(key, contactId, CONSENT_CHANNELS.indexOf(channel));
}

/** The contact and channel a token names, or undefined when it is malformed or its MAC is wrong. */
export function verifyUnsubscribeToken(key: Buffer, token: string): { contactId: string; channel: ConsentChannel } | undefined {
  const claims = verifyIdToken(key, token);
  const channel = claims ? CONSENT_CHANNELS[claims.kind] : undefined;
  return claims && channel ? { contactId: claims.id, channel } : undefined;
}
