// Runs test files the way `tap` does (one process each, several at once, tap's reporter and exit
// status), with two differences that `npm test` needs to fit its budget on a 2-core machine:
//
// - the files start in the order given. tap sorts its file list alphabetically (@tapjs/run list.js),
//   so the longest files (security, fuzz) started last and the suite ended on them running alone;
// - a test process is `node --enable-source-maps <tap node-arg> file`, without the
//   @tapjs/processinfo loader that tap's Spawn puts into every child's NODE_OPTIONS. That loader
//   records each of the ~750 modules a test process loads (for coverage, which this project turns
//   off) and cost ~0.75 s of CPU per test process: ~90 CPU-seconds over the suite.
//
// Each file is a TapFile subtest of the root whose TAP stream is the child's stdout, so the report,
// the counts and the exit status are tap's own. A file fails, as under tap, when its TAP says so,
// when the process exits non-zero or on a signal, or when it outlives the configured timeout.
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { TapConfig } from '@tapjs/config';
import { TapFile, type TapFileOpts, tap } from '@tapjs/core';
import { report } from '@tapjs/reporter';

interface TestProcessOpts extends TapFileOpts {
  /** node, its arguments and the file */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** ms before the process is stopped (tap's `timeout` option) */
  killAfterMs: number;
  /** told the wall-clock ms from spawn to exit, for the next run's order */
  exited(wallMs: number): void;
}

/** One test file run in a child process; its stdout is the TAP this subtest parses. */
class TestProcess extends TapFile {
  #child?: ChildProcess;

  override main(cb: () => void): void {
    const o = this.options as TestProcessOpts;
    const child = (this.#child = spawn(process.execPath, o.argv, { cwd: this.cwd, env: o.env, stdio: ['ignore', 'pipe', 'inherit'] }));
    this.tapStream = child.stdout!;
    const started = performance.now();
    let ended = false;
    let closed: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    // the subtest ends when both the TAP stream has ended and the exit status is known
    const finish = () => {
      if (!ended || !closed) return;
      clearTimeout(timer);
      o.exited(Math.round(performance.now() - started));
      if (closed.code || closed.signal) {
        this.parser.ok = false;
        if (this.results) this.results.ok = false;
        this.options.exitCode = closed.code;
        this.options.signal = closed.signal;
      }
      cb();
    };
    const timer = setTimeout(() => {
      // the child's own tap reports its timeout at the same limit; this stops one that cannot
      this.timeout({ expired: this.name });
      child.kill('SIGKILL');
    }, o.killAfterMs + 5_000);
    child.once('close', (code, signal) => {
      closed = { code, signal };
      finish();
    });
    child.once('error', (er) => this.threw(er));
    super.main(() => {
      ended = true;
      finish();
    });
  }

  /** a fatal signal to the runner goes to the running test processes too */
  kill(signal: NodeJS.Signals) {
    this.#child?.kill(signal);
  }
}

/**
 * Runs the files, at most `jobs` at once, starting them in the order given; sets process.exitCode
 * to 1 when any fails. Resolves to each file's wall-clock milliseconds.
 */
export async function runFiles(files: string[], o: { jobs?: number; nodeArgs?: string[] }): Promise<Map<string, number>> {
  // tap's configuration: package.json "tap" (timeout, node-arg, reporter); our own flags are not tap's
  process.argv.splice(2);
  const config = await TapConfig.load();
  const timeoutMs = Number(config.get('timeout') ?? 30) * 1000;
  const argv = ['--enable-source-maps', ...(o.nodeArgs ?? []), ...((config.get('node-arg') as string[] | undefined) ?? [])];

  const t = tap({ context: Symbol.for('tap.isRunner') });
  t.setTimeout(0);
  const running = new Set<TestProcess>();
  const wallMs = new Map<string, number>();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const p of running) p.kill(signal);
      process.exitCode = 1;
    });
  }
  const reporter = process.env.TAP === '1' ? 'tap' : String(config.get('reporter') ?? 'base');
  if (reporter === 'tap') {
    t.register();
    t.pipe(process.stdout);
  }
  else await report(reporter, t, config);
  t.buffered = false;
  t.jobs = Math.max(1, Math.min(o.jobs ?? Number(config.get('jobs') ?? 2), files.length));
  t.plan(files.length);
  // track running children for the signal handler
  t.on('tapFile', (p: TapFile) => {
    if (!(p instanceof TestProcess)) return;
    running.add(p);
    p.on('complete', () => running.delete(p));
  });
  files.forEach((file, i) => {
    const env = { ...process.env, TAP: '1', TAP_CHILD_ID: String(i + 1), TAP_BAIL: '0', TAP_TIMEOUT: String(timeoutMs / 1000) };
    const opts: TestProcessOpts = {
      name: file, filename: file, cwd: process.cwd(), buffered: t.jobs > 1, at: null, stack: '',
      argv: [...argv, file], env, killAfterMs: timeoutMs, exited: (ms) => wallMs.set(file, ms),
    } as TestProcessOpts;
    void t.sub(TestProcess, opts, runFiles);
  });
  await t.promise();
  return wallMs;
}
