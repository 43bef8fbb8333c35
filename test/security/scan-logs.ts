// Scans the logs a suite run wrote with TEST_LOG_DIR set (npm run test:logs) for credentials and
// personal data; prints each finding and exits 1 when there is any.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanLogText } from './support/log-scanner.js';

const dir = process.argv[2] ?? '.test-logs';
const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
let bytes = 0;
let found = 0;
for (const f of files) {
  const text = readFileSync(join(dir, f), 'utf8');
  bytes += text.length;
  for (const finding of scanLogText(text)) {
    found++;
    if (found <= 50) console.log(`${f}: ${finding.what}: …${finding.excerpt}…`);
  }
}
console.log(`${files.length} log files, ${bytes} bytes, ${found} findings`);
if (files.length === 0 || found > 0) process.exit(1);
