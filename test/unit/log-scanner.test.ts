import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { knownTestValues, readSources, scanLogDir, scanLogText } from '../security/support/log-scanner.js';

// The whole-suite log scan (npm run test:logs → test/security/scan-logs.ts) only proves something if
// it can fail: each kind of value planted in an otherwise ordinary log line must be found, and the
// same lines with the values redacted must pass.

const line = (msg: Record<string, unknown>) => JSON.stringify({ level: 30, time: 1796670000000, pid: 1, reqId: 'req-1', ...msg });
const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJlLXBhcnQtb2YtaXQ';
const planted: [string, string][] = [
  ['JWT', line({ req: { headers: { authorization: `Bearer ${jwt}` } }, msg: 'incoming request' })],
  ['API key', line({ msg: `key crm_${'A1b2C3d4'.repeat(5)} used` })],
  ['refresh token', line({ body: { refreshToken_: `rt_${'x9Y8z7W6'.repeat(4)}` } })],
  ['webhook secret', line({ msg: `signing with whsec_${'Q'.repeat(24)}` })],
  ['email address', line({ msg: 'login failed for someone@customer.example' })],
  ['email address', line({ req: { url: '/v1/contacts?where=someone%40customer.example' } })],
  ['phone number', line({ err: { message: 'duplicate phone +966501234567' } })],
  ['password field', line({ body: { password: 'hunter2-but-longer' } })],
];

t.test('each kind of secret or personal value planted in a log line is found', async (t) => {
  for (const [what, text] of planted) {
    t.same(scanLogText(text).map((f) => f.what), [what], `${what} in ${text.slice(60, 140)}`);
  }
});

t.test('the same lines, redacted as the logger does, are clean', async (t) => {
  const clean = [
    line({ req: { method: 'GET', url: '/v1/contacts?q=[redacted]', headers: { authorization: '[redacted]' } }, msg: 'incoming request' }),
    line({ body: { password: '[redacted]', email: '[redacted]', phone: '[redacted]' } }),
    line({ res: { statusCode: 201 }, responseTime: 12.5, msg: 'request completed' }),
  ];
  for (const text of clean) t.same(scanLogText(text), [], text.slice(60, 140));
});

t.test('known values are found wherever they appear, in whatever field', async (t) => {
  const known = new Map([['a test password', 'a fine passphrase']]);
  t.same(scanLogText(line({ msg: 'tried a fine passphrase' }), known).map((f) => f.what), ['known a test password']);
  t.same(scanLogText(line({ msg: 'tried [redacted]' }), known), []);
});

t.test('the values written in test sources are collected: passwords, secrets, tokens, phones', async (t) => {
  const source = [
    `await login({ email, password: 'a fine passphrase' });`,
    `const env = { ADMIN_PASSWORD: "correct-horse-battery", JWT_SECRET: 'jwt-secret-0123456789' };`,
    'const hook = { secret: `whsec_chosen-by-the-caller` };',
    `payload: { phone: '+966 50 123 4567', name: 'Phone Person' }`,
    `payload: { phone: 'not a phone' }, { password: 'short' }, { password: \`pw-\${randomUUID()}\` }, { note: '[changed]' }`,
  ].join('\n');
  t.same([...knownTestValues([source]).values()].sort(), ['+966 50 123 4567', 'a fine passphrase', 'correct-horse-battery', 'jwt-secret-0123456789', 'whsec_chosen-by-the-caller'].sort());

  const fromRepo = knownTestValues(readSources('test'));
  t.ok([...fromRepo.values()].includes('correct-horse-battery-staple-42'), 'the repository\'s tests yield their literals (the graceful-shutdown admin password)');
});

t.test('a log folder with one planted line fails the scan; counted per file and line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'log-scan-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '100.log'), `${line({ msg: 'request completed' })}\n${line({ msg: 'server listening' })}\n`);
  writeFileSync(join(dir, '101-server-1.log'), `${line({ msg: 'created the first admin', email: '[redacted]' })}\n`);
  writeFileSync(join(dir, 'notes.txt'), 'someone@customer.example is not a log file');
  const clean = scanLogDir(dir);
  t.match(clean, { files: 2, lines: 3, findings: [] }, 'clean logs pass; files other than *.log are not read');

  writeFileSync(join(dir, '101-server-1.log'), `${line({ msg: 'created the first admin', email: 'admin@example.com' })}\n`, { flag: 'a' });
  const dirty = scanLogDir(dir, new Map([['admin password', 'correct-horse-battery']]));
  t.same(dirty.findings.map((f) => [f.file, f.what]), [['101-server-1.log', 'email address']], 'the planted address is found, in its file');
  t.equal(dirty.lines, 4);
});
