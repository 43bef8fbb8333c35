import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, runCli, startScratchServer } from './scratch-server.js';

// npm run test:examples: the examples run as a user would run them, against a server started here on
// a scratch database: the curl tour, then the e-commerce sync interrupted midway and resumed.
// Every check prints a line; the last line is "N passed, M failed" and the exit code is non-zero
// when anything failed.

const ADMIN = { email: 'tour-admin@example.com', password: 'a-long-tour-password-1' };
let passed = 0;
let failed = 0;
function check(what: string, ok: boolean, detail = ''): void {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${what}${ok || !detail ? '' : `: ${detail}`}`);
}

interface Exit { code: number | null; signal: NodeJS.Signals | null; output: string }
function run(command: string, args: string[], env: Record<string, string>, onStart?: (child: ChildProcess) => void): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c));
    child.stderr.on('data', (c: Buffer) => (output += c));
    child.on('close', (code, signal) => resolve({ code, signal, output }));
    onStart?.(child);
  });
}

let apiKey = '';
const server = await startScratchServer((env) => {
  runCli(env, ['create-admin', '--email', ADMIN.email, '--password-stdin'], ADMIN.password);
  apiKey = runCli(env, ['create-api-key', '--name', 'examples', '--role', 'manager']).trim();
});
const api = async (path: string) => {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
};
const work = mkdtempSync(join(tmpdir(), 'crm-examples-run-'));

try {
  console.log(`# server on ${server.url} (${server.env.DATABASE_URL ? 'PostgreSQL scratch database' : 'embedded database'})`);

  // ---- the curl tour ----
  const tourEnv = { CRM_URL: server.url, CRM_EMAIL: ADMIN.email, CRM_PASSWORD: ADMIN.password };
  const tour = await run('bash', ['examples/curl-tour.sh'], tourEnv);
  check('curl-tour.sh runs green', tour.code === 0, tour.output);
  check('the tour checked every step', (tour.output.match(/ {2}ok: /g) ?? []).length >= 20 && /all steps answered as expected/.test(tour.output), tour.output);
  const rerun = await run('bash', ['examples/curl-tour.sh'], tourEnv);
  check('the tour runs again on the same database', rerun.code === 0, rerun.output);
  const wrong = await run('bash', ['examples/curl-tour.sh'], { ...tourEnv, CRM_PASSWORD: 'not-the-password' });
  check('an unexpected status stops the tour with a non-zero exit', wrong.code === 1 && /POST \/v1\/auth\/login answered 401, expected 200/.test(wrong.output), wrong.output);

  // ---- the e-commerce sync, interrupted and resumed ----
  const store = JSON.parse(readFileSync(join(root, 'examples/ecommerce-sync/store-export.json'), 'utf8'));
  const checkpoint = join(work, 'checkpoint.json');
  const syncEnv = { CRM_URL: server.url, CRM_TOKEN: apiKey };
  const sync = (extra: string[], onStart?: (c: ChildProcess) => void) =>
    run(process.execPath, ['--import', 'tsx', 'examples/ecommerce-sync/sync.ts', '--checkpoint', checkpoint, '--batch-size', '4', ...extra], syncEnv, onStart);
  const progress = () => (existsSync(checkpoint) ? JSON.parse(readFileSync(checkpoint, 'utf8')) : { customersDone: 0, ordersDone: 0 });

  // slowed down, and killed (as a crash would) once a few batches are checkpointed
  const first = await sync(['--delay-ms', '400'], (child) => {
    const watch = setInterval(() => {
      const p = progress();
      if (p.customersDone >= 12) {
        clearInterval(watch);
        child.kill('SIGKILL');
      }
    }, 20);
    child.on('close', () => clearInterval(watch));
  });
  const midway = progress();
  check('the first run was killed midway', first.signal === 'SIGKILL' && midway.customersDone < store.customers.length,
    JSON.stringify({ code: first.code, signal: first.signal, customersDone: midway.customersDone }));
  const contactsMidway = (await api('/v1/contacts/count?filter[source][eq]=sample-shop')).count;
  check('only the checkpointed part of the store is in the CRM', contactsMidway >= midway.customersDone && contactsMidway < store.customers.length,
    `${contactsMidway} contacts, checkpoint at ${midway.customersDone}`);

  const resumed = await sync([]);
  check('the rerun resumes and finishes', resumed.code === 0 && resumed.output.includes(`synced ${store.customers.length} customers and ${store.orders.length} orders`), resumed.output);
  const firstLine = /customers (\d+)\//.exec(resumed.output)?.[1];
  check('the rerun started from the checkpoint, not from the start', Number(firstLine) === midway.customersDone + 4, resumed.output);
  const counts = async () => ({
    contacts: (await api('/v1/contacts/count?filter[source][eq]=sample-shop')).count,
    orders: (await api('/v1/orders/count?filter[externalId][startsWith]=shop-')).count,
  });
  const after = await counts();
  check('every customer once', after.contacts === store.customers.length, JSON.stringify(after));
  check('every order once', after.orders === store.orders.length, JSON.stringify(after));

  // the first order belongs to the first customer, linked through the CRM id the upsert answered
  const order = (await api('/v1/orders?filter[externalId][eq]=shop-90001')).data[0];
  const owner = (await api(`/v1/contacts?filter[email][eq]=${store.customers[0].email}`)).data[0];
  check('orders are linked to their customer', order?.contactId === owner?.id && order?.total === '12.50', JSON.stringify({ order, owner: owner?.id }));

  // from scratch again (the checkpoint lost): everything is sent again, nothing is duplicated
  rmSync(checkpoint);
  const again = await sync(['--batch-size', '100']);
  check('a full rerun without a checkpoint succeeds', again.code === 0, again.output);
  const final = await counts();
  check('and duplicates nothing', final.contacts === store.customers.length && final.orders === store.orders.length, JSON.stringify(final));
} catch (e) {
  check('the examples ran to the end', false, e instanceof Error ? e.stack ?? e.message : String(e));
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
