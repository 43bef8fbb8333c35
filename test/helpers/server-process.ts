import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { captureChildOutput } from './log-capture.js';

// Real server processes for the scale-out tests: `src/server.ts` (or another entry point) in a child
// node, loading TypeScript the way the test processes do. Nothing of the parent's environment but
// PATH leaks in, so each child runs exactly the configuration the test gives it.

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsRegister = new URL('./ts-register.mjs', import.meta.url).href;

export interface ServerProcess {
  readonly child: ChildProcess;
  /** the last lines it wrote, for a failing test's message */
  tail(): string;
  /** resolves with the exit code (or signal) once it has exited */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// a test that fails or is killed midway must not leave servers behind holding the database
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export function spawnEntry(entry: string, env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--import', tsRegister, `${root}${entry}`], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  captureChildOutput(child, entry.replace(/^.*\//, '').replace(/\.ts$/, ''));
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => {
    running.delete(child);
    resolve(code ?? signal ?? -1);
  }));
  return {
    child,
    tail: () => lines.slice(-40).join('\n'),
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts `src/server.ts` on a port of its own and resolves with its base URL once it listens. */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 45_000): Promise<ServerProcess & { base: string }> {
  const p = spawnEntry('src/server.ts', { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env });
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${timeoutMs} ms:\n${p.tail()}`)), timeoutMs);
    let seen = ''; // a line may come in two chunks
    const look = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      const m = /CRM ready on (http:\/\/localhost:\d+)/.exec(seen);
      if (!m) return;
      clearTimeout(timer);
      p.child.stdout?.off('data', look);
      resolve((m[1] as string).replace('localhost', '127.0.0.1'));
    };
    p.child.stdout?.on('data', look);
    void p.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before it was ready:\n${p.tail()}`));
    });
  }).catch(async (e: unknown) => {
    await p.stop();
    throw e;
  });
  return { ...p, base };
}
