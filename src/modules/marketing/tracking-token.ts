import { keyFor, signIdToken, verifyIdToken } from '../../platform/auth/id-token.js';

// Tracking tokens of campaign mail name the recipient row (one per contact and campaign) and whether
// the link is the open pixel or a click (platform/auth/id-token.ts), under a key of their own.

export const TRACKING_KINDS = ['open', 'click'] as const;
export type TrackingKind = (typeof TRACKING_KINDS)[number];

export const trackingKey = (secret: string): Buffer => keyFor(secret, 'headless-crm campaign tracking v1');

export const signTrackingToken = (key: Buffer, recipientId: string, kind: TrackingKind): string =>
  signIdToken(key, recipientId, TRACKING_KINDS.indexOf(kind));

/** The recipient a token names, or undefined when it is malformed, of another kind, or its MAC is wrong. */
export function verifyTrackingToken(key: Buffer, token: string, kind: TrackingKind): string | undefined {
  const claims = verifyIdToken(key, token);
  return claims && claims.kind === TRACKING_KINDS.indexOf(kind) ? claims.id : undefined;
}
