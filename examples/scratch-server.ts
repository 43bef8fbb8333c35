import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

// The CRM as a user runs it, for the examples: `src/server.ts` in a child process on a free port of
// 127.0.0.1, on a database made for this run and removed after it. With TEST_DATABASE_URL (as CI
// sets it) that is a new database on that PostgreSQL server; without it, the embedded database
// (PGlite) in a temporary folder.

export const root = fileURLToPath(new URL('..', import.meta.url));

export interface ScratchServer {
  url: string;
  /** the environment of the server: DATABASE_URL (when on a server) and DATA_DIR, for the CLI */
  env: Record<string, string>;
  log: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function scratchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `crm_examples_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Runs the project's CLI (`crm …`) with the server's environment; throws with its output when it fails. */
export function runCli(env: Record<string, string>, args: string[], input?: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/crm.ts'), ...args], {
    cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', ...(input === undefined ? {} : { input }),
  });
  if (r.status !== 0) throw new Error(`crm ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function waitUntilReady(url: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${readFileSync(log, 'utf8')}`);
    const ready = await fetch(`${url}/ready`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server was not ready within 2 minutes:\n${readFileSync(log, 'utf8')}`);
}

/**
 * `setup` runs before the server starts, with the server's environment: that is when the CLI may use
 * the database, since the embedded one allows one process at a time.
 */
export async function startScratchServer(setup: (env: Record<string, string>) => void = () => undefined): Promise<ScratchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'crm-examples-'));
  const database = process.env.TEST_DATABASE_URL ? await scratchDatabase(process.env.TEST_DATABASE_URL) : undefined;
  const port = await freePort();
  const env: Record<string, string> = { DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url } : {}) };
  // the server migrates only the embedded database at start; `crm migrate` does either
  runCli(env, ['migrate']);
  setup(env);

  const log = join(dataDir, 'server.log');
  const out = createWriteStream(log);
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/server.ts')], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(url, child, log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, env, log, stop };
}
