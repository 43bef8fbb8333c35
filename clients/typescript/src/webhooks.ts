import type { components } from './generated/openapi.js';

// Webhook signatures (API.md §5, docs/integration.md): X-CRM-Signature is `t=<unix seconds>,v1=<hex>`,
// with one v1= per secret while a rotated secret overlaps. Each v1 is HMAC-SHA256 of "<t>.<raw body>"
// keyed with the secret string's UTF-8 bytes. Web Crypto rather than node:crypto, so the same code runs
// in Node 20, Deno, workers and edge runtimes; crypto.subtle.verify compares in constant time.

export const SIGNATURE_HEADER = 'x-crm-signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type WebhookEvent = components['schemas']['FeedEvent'];

export type SignatureFailure = 'malformed_header' | 'timestamp_out_of_tolerance' | 'no_matching_signature';

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: SignatureFailure };

export interface VerifyOptions {
  /** how far `t` may be from now, either way (default 300 s): an older delivery is refused as a replay */
  toleranceSeconds?: number;
  /** the receiver's clock, in unix seconds (default: now) */
  nowSeconds?: number;
}

const encoder = new TextEncoder();

function parseHeader(header: string): { t: number; signatures: Uint8Array[] } | null {
  let t = Number.NaN;
  const signatures: Uint8Array[] = [];
  for (const part of header.split(',')) {
    const [key, value = ''] = part.trim().split('=');
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(hexToBytes(value));
  }
  return Number.isInteger(t) && signatures.length > 0 ? { t, signatures } : null;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Checks a delivery before its body is trusted. `rawBody` must be the bytes as received: a body
 * parsed and serialised again does not match.
 */
export async function verifyWebhookSignature(
  rawBody: string | Uint8Array, header: string | null | undefined, secret: string | readonly string[], o: VerifyOptions = {},
): Promise<SignatureCheck> {
  const parsed = header ? parseHeader(header) : null;
  if (!parsed) return { ok: false, reason: 'malformed_header' };
  const now = o.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - parsed.t) > (o.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    return { ok: false, reason: 'timestamp_out_of_tolerance' };
  }
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody;
  const signed = concat(encoder.encode(`${parsed.t}.`), body);
  // a receiver in the middle of its own rotation may hold the new and the old secret: either will do
  for (const s of typeof secret === 'string' ? [secret] : secret) {
    const key = await globalThis.crypto.subtle.importKey('raw', encoder.encode(s), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    for (const signature of parsed.signatures) {
      if (await globalThis.crypto.subtle.verify('HMAC', key, signature, signed)) return { ok: true, timestamp: parsed.t };
    }
  }
  return { ok: false, reason: 'no_matching_signature' };
}

export class WebhookSignatureError extends Error {
  constructor(readonly reason: SignatureFailure) {
    super(`webhook signature refused: ${reason}`);
    this.name = 'WebhookSignatureError';
  }
}

/** Verifies, then parses: the event of a delivery, or a WebhookSignatureError saying why not. */
export async function parseWebhookEvent(
  rawBody: string | Uint8Array, header: string | null | undefined, secret: string | readonly string[], o: VerifyOptions = {},
): Promise<WebhookEvent> {
  const check = await verifyWebhookSignature(rawBody, header, secret, o);
  if (!check.ok) throw new WebhookSignatureError(check.reason);
  return JSON.parse(typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody)) as WebhookEvent;
}
