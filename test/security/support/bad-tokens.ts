import { createHmac, randomUUID } from 'node:crypto';
import { TEST_JWT_SECRET, type TestApp } from '../../helpers/app.js';

// Credentials that must all be 401: the matrix rotates through them, one per operation, so every
// kind meets many routes (test/security/tokens.test.ts tries each kind in depth on one route).

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function hs256(claims: Record<string, unknown>, key: string): string {
  const data = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${data}.${createHmac('sha256', key).update(data).digest('base64url')}`;
}

export function badCredentials(h: TestApp): { what: string; authorization: string }[] {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: randomUUID(), role: 'admin', teamIds: [], iss: h.config.jwt.issuer, aud: h.config.jwt.audience, iat: now, exp: now + 600, jti: randomUUID() };
  return [
    { what: 'signed with another key', authorization: `Bearer ${hs256(claims, 'not-the-server-secret-but-long-enough-0123')}` },
    { what: 'expired', authorization: `Bearer ${hs256({ ...claims, iat: now - 7200, exp: now - 3600 }, TEST_JWT_SECRET)}` },
    { what: 'alg none', authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.` },
    { what: 'unknown API key', authorization: `Bearer crm_${'Q'.repeat(43)}` },
    { what: 'not a bearer token', authorization: 'Basic YWRtaW46YWRtaW4=' },
  ];
}
