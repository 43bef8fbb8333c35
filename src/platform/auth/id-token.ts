import { createHmac, timingSafeEqual } from 'node:crypto';

// Short signed tokens that name one record and a kind: `<payload>.<mac>`, both base64url. The payload
// is the record's UUID (16 bytes) and one kind byte, the MAC an HMAC-SHA256 of those 17 bytes.
// About 67 characters, so links stay short. Unsubscribe links and campaign tracking links use them,
// each under a key of its own (keyFor), so a token of one purpose passes for nothing else.

/** A key derived from the service's signing secret for one purpose. */
export function keyFor(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(purpose).digest();
}

const mac = (key: Buffer, payload: Buffer) => createHmac('sha256', key).update(payload).digest();

export function signIdToken(key: Buffer, id: string, kind: number): string {
  const bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
  if (bytes.length !== 16) throw new Error('id must be a UUID');
  const payload = Buffer.concat([bytes, Buffer.from([kind])]);
  return `${payload.toString('base64url')}.${mac(key, payload).toString('base64url')}`;
}

/** The id and kind a token names, or undefined when it is malformed or its MAC is wrong. */
export function verifyIdToken(key: Buffer, token: string): { id: string; kind: number } | undefined {
  const parts = token.split('.');
  if (parts.length !== 2 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  const payload = Buffer.from(parts[0] as string, 'base64url');
  const given = Buffer.from(parts[1] as string, 'base64url');
  // base64url decoding ignores a last character's spare bits: only the canonical spelling is accepted
  if (payload.toString('base64url') !== parts[0] || given.toString('base64url') !== parts[1]) return undefined;
  const expected = mac(key, payload);
  if (payload.length !== 17 || given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const hex = payload.subarray(0, 16).toString('hex');
  return { id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`, kind: payload[16] as number };
}
