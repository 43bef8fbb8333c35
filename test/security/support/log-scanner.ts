// What must never be in a log line: credentials (access tokens, refresh tokens, API keys, passwords)
// and personal data (email addresses, phone numbers). Two kinds of check: the exact values a test
// knows it used, and patterns that catch values nobody listed, for a scan of a whole suite's logs.

export interface Finding {
  what: string;
  excerpt: string;
}

const PATTERNS: { what: string; re: RegExp }[] = [
  { what: 'JWT', re: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
  { what: 'API key', re: /crm_[A-Za-z0-9_-]{20,}/g },
  { what: 'refresh token', re: /rt_[A-Za-z0-9_-]{20,}/g },
  { what: 'webhook secret', re: /whsec_[A-Za-z0-9_-]{16,}/g },
  { what: 'email address', re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  // E.164, as the service stores phones
  { what: 'phone number', re: /\+[1-9]\d{7,14}\b/g },
  { what: 'password field', re: /"(password|newPassword|currentPassword)":"(?!\[redacted\])[^"]+"/g },
];

const excerptAt = (text: string, index: number, length: number) =>
  text.slice(Math.max(0, index - 60), index + length + 60).replace(/\s+/g, ' ');

/** Every pattern match and every known value found in the text. */
export function scanLogText(logged: string, known: ReadonlyMap<string, string> = new Map()): Finding[] {
  // URLs are logged percent-encoded: an address is as readable as `a%40b.example` as it is as `a@b.example`
  const text = logged.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  const findings: Finding[] = [];
  for (const { what, re } of PATTERNS) {
    for (const m of text.matchAll(re)) findings.push({ what, excerpt: excerptAt(text, m.index ?? 0, m[0].length) });
  }
  for (const [what, value] of known) {
    const at = text.indexOf(value);
    if (at >= 0) findings.push({ what: `known ${what}`, excerpt: excerptAt(text, at, value.length) });
  }
  return findings;
}
