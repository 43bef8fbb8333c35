import argon2 from 'argon2';
import type { FieldError } from '../../platform/errors/app-error.js';

// Argon2id with OWASP's recommended floor (19 MiB, 2 passes, 1 lane): strong against GPUs and
// still quick enough that logins do not queue on a 2-core machine.
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => argon2.hash(password, OPTIONS);

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

// Verified against when the account does not exist, so both cases take the same time.
let dummyHash: Promise<string> | undefined;
export function burnPasswordCheck(password: string): Promise<boolean> {
  dummyHash ??= hashPassword('no-such-account-placeholder');
  return dummyHash.then((h) => verifyPassword(h, password)).then(() => false);
}

/** Length 12–256 and not the email (nor its local part); returns the reasons it fails. */
export function passwordProblems(password: string, email: string): FieldError[] {
  const errors: FieldError[] = [];
  if (password.length < 12) errors.push({ path: 'password', message: 'must be at least 12 characters' });
  if (password.length > 256) errors.push({ path: 'password', message: 'must be at most 256 characters' });
  const p = password.toLowerCase();
  const e = email.toLowerCase();
  const local = e.split('@')[0] ?? '';
  if (p === e || (local.length >= 4 && p.includes(local))) errors.push({ path: 'password', message: 'must not be or contain your email' });
  return errors;
}
