// Scans the logs a suite run wrote with TEST_LOG_DIR set (npm run test:logs) for credentials and
// personal data: patterns (JWTs, API keys, refresh tokens, webhook secrets, emails, E.164 phones,
// password fields) and every password, secret, token and phone literal written in the test sources.
// Prints each finding and exits 1 when there is any, or when there were no logs to scan.
import { fileURLToPath } from 'node:url';
import { knownTestValues, readSources, scanLogDir } from './support/log-scanner.js';

const dir = process.argv[2] ?? '.test-logs';
const root = new URL('../../', import.meta.url);
const known = knownTestValues([...readSources(fileURLToPath(new URL('test', root))), ...readSources(fileURLToPath(new URL('examples', root)))]);
const scan = scanLogDir(dir, known);
const byWhat = new Map<string, number>();
for (const [i, f] of scan.findings.entries()) {
  byWhat.set(f.what, (byWhat.get(f.what) ?? 0) + 1);
  if (i < 50) console.log(`${f.file}: ${f.what}: …${f.excerpt}…`);
}
console.log(`${scan.files} log files, ${scan.lines} lines, ${scan.bytes} bytes; ${known.size} known test values checked besides the patterns`);
console.log(`${scan.findings.length} findings${byWhat.size ? `: ${JSON.stringify(Object.fromEntries(byWhat))}` : ''}`);
if (scan.files === 0 || scan.findings.length > 0) process.exit(1);
