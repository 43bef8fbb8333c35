import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { openPglite } from '../../src/platform/db/client.js';
import { shippedMigrationCount } from '../../src/platform/db/migrations.js';
import { startTestApp } from '../helpers/app.js';
import { type TestDatabase, createTestDatabase, testDatabaseKind } from '../helpers/database.js';

// The real `crm` command (bin/crm.js) in child processes against a database of this test: a fresh
// one on the PostgreSQL server when there is one, else an embedded database in a temporary folder.
// What the commands did is then checked through the API, in process, on the same database.

// each command is a new Node process loading TypeScript (and, without a server, the embedded database
// from disk): minutes on a busy 2-core machine. A bound on a hang, not a timing assertion.
t.setTimeout(900_000);

const bin = fileURLToPath(new URL('../../bin/crm.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'crm-cli-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

let onServer: TestDatabase | undefined;
let env: Record<string, string>;
if ((await testDatabaseKind()) === 'server') {
  onServer = await createTestDatabase();
  env = { DATABASE_URL: onServer.url as string };
} else {
  env = { DATA_DIR: work }; // the embedded database; the CLI migrates it
}

interface Run { code: number | null; stdout: string; stderr: string }

function crm(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const { DATABASE_URL: _drop, ...inherited } = process.env;
    const child = spawn(process.execPath, [bin, ...args], { env: { ...inherited, LOG_LEVEL: 'silent', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** The same, inside a pseudo-terminal (util-linux `script`), as a person at a terminal runs it. */
function crmOnTty(args: string[]): Promise<Run> {
  const quoted = [process.execPath, bin, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve) => {
    const { DATABASE_URL: _drop, ...inherited } = process.env;
    const child = spawn('script', ['-qfec', quoted, '/dev/null'], { env: { ...inherited, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
}

const csv = join(work, 'contacts.csv');
const companiesCsv = join(work, 'companies.csv');
writeFileSync(companiesCsv, 'name,domain\nTty Trading,tty-trading.example\nTty Logistics,tty-logistics.example\n');
writeFileSync(csv, 'firstName,lastName,email,tags\nAna,Cli,ana.cli@example.com,vip;retail\nOmar,Cli,omar.cli@example.com,\nBad,Cli,not-an-email,\n');

// The commands run first, in order, while nothing else has the embedded database open.
const migrated = await crm(['migrate']);
const migratedAgain = await crm(['migrate']);
const admin = await crm(['create-admin', '--email', 'Boss@Example.com', '--name', 'Boss', '--password-stdin'], 'a-long-admin-password-1\n');
const adminAgain = await crm(['create-admin', '--email', 'boss@example.com', '--password-stdin'], 'another-long-password-2\n');
const weakAdmin = await crm(['create-admin', '--email', 'weak@example.com', '--password-stdin'], 'short\n');
const key = await crm(['create-api-key', '--name', 'ERP sync', '--role', 'manager']);
const badKey = await crm(['create-api-key', '--name', 'Nope', '--role', 'king']);
const imported = await crm(['import', csv, '--entity', 'contacts']);
const importedOnTty = await crmOnTty(['import', companiesCsv, '--entity', 'companies']);
const exported = await crm(['export', '--entity', 'contacts', '--format', 'ndjson', '--query', 'filter[lastName][eq]=Cli&sort=email&fields=email,tags']);
const badExport = await crm(['export', '--entity', 'contacts', '--query', 'filter[shoeSize][eq]=42']);
const verified = await crm(['audit:verify']);

// Then the API, on the same database, checks what they left behind.
const database = onServer ?? { database: await openPglite(work), close: async () => undefined };
const h = await startTestApp({ db: database });
t.teardown(async () => {
  await h.close();
  if (onServer) await onServer.close(); // drops the database too
  else await database.database.close();
});

t.test('migrate applies what is pending and is a no-op the second time', async (t) => {
  t.equal(migrated.code, 0, migrated.stderr);
  t.match(migrated.stdout, new RegExp(`migrations: \\d+ applied, ${shippedMigrationCount()} in total`));
  t.equal(migratedAgain.code, 0);
  t.match(migratedAgain.stdout, `migrations: 0 applied, ${shippedMigrationCount()} in total`);
});

t.test('create-admin makes an admin who can sign in with the password from stdin', async (t) => {
  t.equal(admin.code, 0, admin.stderr);
  t.match(admin.stdout, /created admin boss@example\.com/);
  t.notMatch(admin.stdout, /a-long-admin-password-1/, 'a given password is never echoed');
  const login = await h.request({ method: 'POST', url: '/v1/auth/login', payload: { email: 'boss@example.com', password: 'a-long-admin-password-1' } });
  t.equal(login.statusCode, 200, login.body);
  const me = await h.request({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${login.json().accessToken}` } });
  t.match(me.json(), { email: 'boss@example.com', name: 'Boss', role: 'admin' });

  t.equal(adminAgain.code, 1, 'the same email twice is refused');
  t.match(adminAgain.stderr, /conflict/);
  t.equal(weakAdmin.code, 1);
  t.match(weakAdmin.stderr, /validation_failed[\s\S]*password/);
  const weak = await h.request({ method: 'POST', url: '/v1/auth/login', payload: { email: 'weak@example.com', password: 'short' } });
  t.equal(weak.statusCode, 401, 'and no such user was made');
});

t.test('create-api-key prints a key that works, alone on stdout', async (t) => {
  t.equal(key.code, 0, key.stderr);
  t.match(key.stdout, /^crm_\S+\n$/);
  t.match(key.stderr, /created API key .* "ERP sync" \(manager\)/);
  const res = await h.request({ method: 'GET', url: '/v1/contacts?limit=1', headers: { authorization: `Bearer ${key.stdout.trim()}` } });
  t.equal(res.statusCode, 200);
  t.equal(badKey.code, 1);
  t.match(badKey.stderr, /validation_failed[\s\S]*role/);
});

t.test('import goes through the import service: good rows written, the bad one reported, exit 2', async (t) => {
  t.equal(imported.code, 2, 'done, with a refused row');
  t.match(imported.stdout, /completed: 2 created, 0 updated, 1 failed of 3 rows/);
  t.match(imported.stdout, /row 3: .*email/);
  t.match(imported.stderr, /importing 3 contacts: 3\/3 rows/, 'progress as lines when stderr is not a terminal');
  const list = await h.request({ method: 'GET', url: '/v1/contacts?filter[lastName][eq]=Cli&sort=email', headers: h.user('admin').auth });
  t.same(list.json().data.map((c: { email: string; tags: string[] }) => [c.email, c.tags]), [['ana.cli@example.com', ['vip', 'retail']], ['omar.cli@example.com', []]]);
});

t.test('on a terminal, import draws a progress bar', async (t) => {
  t.equal(importedOnTty.code, 0, importedOnTty.stdout);
  t.ok(importedOnTty.stdout.includes('\u001b['), 'terminal control sequences: the bar is redrawn in place');
  t.match(importedOnTty.stdout, /importing 2 companies \[[^\]]+\] 100% \| 2\/2 rows/);
  t.match(importedOnTty.stdout, /completed: 2 created, 0 updated, 0 failed of 2 rows/);
  const list = await h.request({ method: 'GET', url: '/v1/companies?filter[domain][startsWith]=tty-&sort=name', headers: h.user('admin').auth });
  t.same(list.json().data.map((c: { name: string }) => c.name), ['Tty Logistics', 'Tty Trading']);
});

t.test('export streams the collection with the list\'s filters, and refuses a bad one', async (t) => {
  t.equal(exported.code, 0, exported.stderr);
  const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.map((l) => l.email), ['ana.cli@example.com', 'omar.cli@example.com']);
  t.same(Object.keys(lines[0]).sort(), ['email', 'id', 'tags'], 'only the fields asked for (and the id)');
  t.equal(badExport.code, 1);
  t.match(badExport.stderr, /validation_failed[\s\S]*filter\.shoeSize/);
  t.equal(badExport.stdout, '', 'nothing written');
});

t.test('audit:verify checks the chain the commands extended', async (t) => {
  t.equal(verified.code, 0, verified.stderr);
  t.match(verified.stdout, /audit chain intact: [1-9]\d* rows checked/);
});
