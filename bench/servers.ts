import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';

// The servers under test run in their own processes, so the load generator (this process) and
// the server do not share an event loop, and each server's memory is its own.

export interface Server {
  name: string;
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// a bench stopped half-way (Ctrl-C, a failure) must not leave servers holding the scratch database
process.on('exit', () => { for (const c of running) c.kill('SIGKILL'); });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/**
 * A port nobody listens on: with a fixed one, a neighbour's server on it would answer /health and the
 * whole run would measure that server while ours died of EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}
/** `execArgv`: extra node flags for the server, e.g. --cpu-prof or a preload (bench/read-cpu.ts). */
export function startServer(name: string, script: string, port: number, env: Record<string, string>, execArgv: string[] = []): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], {
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
      execArgv: ['--import', 'tsx', ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const base = `http://127.0.0.1:${port}`;
    const server: Server = {
      name,
      base,
      child,
      stop: () => new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
    };
    const failed = (code: number | null) => { clearInterval(ping); reject(new Error(`${name} exited with ${code} before answering`)); };
    child.once('error', reject);
    child.once('exit', failed);
    const ping = setInterval(async () => {
      try {
        const r = await fetch(`${base}/health`);
        if (r.status < 500) ready();
      } catch { /* not listening yet */ }
    }, 200);
    const ready = () => { clearInterval(ping); child.off('exit', failed); resolve(server); };
    child.on('message', (m) => { if (m === 'ready') ready(); });
  });
}

export function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** The largest RSS of `pid` seen while `work` runs, sampled every 250 ms. */
export async function peakRssDuring<T>(pid: number | undefined, work: () => Promise<T>): Promise<{ value: T; peakRssMb: number }> {
  let peak = rssMb(pid);
  const timer = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 250);
  try {
    const value = await work();
    return { value, peakRssMb: Math.max(peak, rssMb(pid)) };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Waits until no transaction on the database has been open for a second, twice in a row: requests
 * autocannon stopped waiting for at the end of a scenario (1000-record batches, say) go on in the
 * server, and must not be charged to the next scenario. The workers' short polls do not count.
 */
export async function untilDatabaseIdle(url: string, maxSeconds = 300): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const deadline = Date.now() + maxSeconds * 1000;
    let quiet = 0;
    while (Date.now() < deadline && quiet < 2) {
      const r = await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start < now() - interval '1 second'",
      );
      quiet = r.rows[0]!.n === 0 ? quiet + 1 : 0;
      await new Promise((done) => setTimeout(done, 500));
    }
  } finally {
    await c.end();
  }
}

/**
 * Waits until the server answers /ready (a database round trip through its pool) within 100 ms,
 * twice in a row: requests autocannon gave up on (20 dashboards' worth of kpis, say) are still
 * queued for the pool after the database itself looks idle between their statements, and the
 * next scenario's first requests would wait behind them for a connection.
 */
export async function untilServerSettled(base: string, maxSeconds = 120): Promise<void> {
  const deadline = Date.now() + maxSeconds * 1000;
  let fast = 0;
  while (Date.now() < deadline && fast < 2) {
    const started = Date.now();
    const ok = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
    fast = ok && Date.now() - started < 100 ? fast + 1 : 0;
    await new Promise((done) => setTimeout(done, 250));
  }
}
