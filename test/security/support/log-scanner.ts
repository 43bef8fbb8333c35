import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

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

// A literal given as a password, secret, token, API key or phone in a test's source: `password:
// 'a fine passphrase'`, `ADMIN_PASSWORD: '…'`, `const TEST_JWT_SECRET = '…'`. Template literals
// with a \${…} part are left to the patterns (their values are random per run).
const LITERAL = /\b(\w*(?:password|passphrase|secret|token|apikey|phone)\w*)['"]?\s*[:=]\s*(['"`])([^'"`$\n]+)\2/gi;
// Shorter literals are test words ('short', 'nope') that also occur in ordinary log text.
const MIN_LITERAL = 8;

/** The credential and phone literals written in test sources, as `name → value` for scanLogText. */
export function knownTestValues(sources: Iterable<string>): Map<string, string> {
  const known = new Map<string, string>();
  for (const source of sources) {
    for (const m of source.matchAll(LITERAL)) {
      const [, name, , value] = m as unknown as [string, string, string, string];
      if (value.length < MIN_LITERAL || /^\[.*\]$/.test(value)) continue; // '[changed]': the audit's own placeholder
      if (/phone/i.test(name) && !/\d{6}/.test(value.replace(/\s/g, ''))) continue; // 'not a phone': invalid input, no number
      // value first: the same literal written under two names is one value to look for
      if (![...known.values()].includes(value)) known.set(`${name} '${value}'`, value);
    }
  }
  return known;
}

/** Every `*.ts` file under `dir`, read. */
export function readSources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

export interface LogDirScan {
  files: number;
  lines: number;
  bytes: number;
  findings: (Finding & { file: string })[];
}

/** Scans every `*.log` file in `dir` with the patterns and the known values. */
export function scanLogDir(dir: string, known: ReadonlyMap<string, string> = new Map()): LogDirScan {
  const scan: LogDirScan = { files: 0, lines: 0, bytes: 0, findings: [] };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    scan.files++;
    scan.bytes += text.length;
    scan.lines += text.split('\n').filter(Boolean).length;
    // line by line: a known value found once per file would hide its other lines
    for (const line of text.split('\n')) {
      if (line) scan.findings.push(...scanLogText(line, known).map((f) => ({ ...f, file })));
    }
  }
  return scan;
}
