import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// The webhook signature recipe (API.md §5 and §5b), the one receivers reimplement:
//   X-CRM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
// keyed with the secret string exactly as returned at creation (its UTF-8 bytes). The timestamp is
// inside the signed text, so a receiver that refuses old `t` values also refuses replays. While a
// rotated secret overlaps (POST /v1/webhooks/:id/rotate-secret) the header carries one v1= per secret,
// the new one first: `t=…,v1=<new>,v1=<previous>`; a receiver accepts the body when any v1= matches.

export const SIGNATURE_HEADER = 'x-crm-signature';

/** A new webhook secret: 32 random bytes, base64url, with a prefix secret scanners can recognise. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function hmacHex(secret: string, t: number, rawBody: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${t}.${rawBody}`, 'utf8').digest('hex');
}

/** The header value for a body sent at unix time `t` (seconds), signed with each secret in turn. */
export function signatureHeader(secrets: string | readonly string[], rawBody: string, t: number): string {
  const keys = typeof secrets === 'string' ? [secrets] : secrets;
  return [`t=${t}`, ...keys.map((k) => `v1=${hmacHex(k, t, rawBody)}`)].join(',');
}

/**
 * What a receiver does: any `v1=` value matching (a header may carry several while a secret is being
 * rotated), and `t` within `toleranceSeconds` of now. Exported for tests and the documentation.
 */
export function verifySignature(
  header: string, secret: string, rawBody: string, o: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  const parts = header.split(',').map((p) => p.trim().split('=') as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t)) return false;
  const now = o.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (o.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmacHex(secret, t, rawBody), 'hex');
  return parts.some(([k, v]) => {
    if (k !== 'v1' || !v || !/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, 'hex'), expected);
  });
}
