import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

// TEST_LOG_DIR set (npm run test:logs): everything the service logs during a test run is kept under
// that folder, so test/security/scan-logs.ts can prove no credential or personal data is ever
// written to a log. Every way a test runs the service goes through here: apps built in the test
// process (startTestApp and direct buildApp calls), and child processes (servers, workers) whose
// stdout/stderr are their logs. Without TEST_LOG_DIR all of this is a no-op.

export const captureDir = (): string | undefined => process.env.TEST_LOG_DIR || undefined;

let processLog: Writable | undefined;
function processLogFile(dir: string): Writable {
  if (!processLog) {
    mkdirSync(dir, { recursive: true });
    processLog = createWriteStream(join(dir, `${process.pid}.log`), { flags: 'a' });
  }
  return processLog;
}

/** Writes every chunk to all the given streams: a test reading its own log lines keeps them, and the capture gets them too. */
function tee(streams: NodeJS.WritableStream[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const s of streams) s.write(chunk);
      done();
    },
  });
}

/**
 * The log stream an in-process app should be built with: the test's own stream (if any), plus this
 * process's capture file when capturing. `level` is the LOG_LEVEL to use when the test gave none:
 * info while capturing, so the scan sees request lines, not just errors.
 */
export function testLogStream(own?: NodeJS.WritableStream): { logStream?: NodeJS.WritableStream; level?: 'info' } {
  const dir = captureDir();
  if (!dir) return own ? { logStream: own } : {};
  const file = processLogFile(dir);
  return { logStream: own ? tee([own, file]) : file, level: 'info' };
}

let children = 0;
/**
 * Copies a child process's stdout and stderr (its logs: pino writes JSON lines to stdout) into the
 * capture folder, one file per child. `label` names the file, e.g. 'server' or 'worker'.
 */
export function captureChildOutput(child: ChildProcess, label: string): void {
  const dir = captureDir();
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = createWriteStream(join(dir, `${process.pid}-${label}-${++children}.log`), { flags: 'a' });
  let open = 2;
  const ended = () => {
    if (--open === 0) file.end();
  };
  for (const s of [child.stdout, child.stderr]) {
    if (!s) {
      ended();
      continue;
    }
    s.on('data', (chunk: Buffer) => file.write(chunk));
    s.once('close', ended);
  }
}

/** Text a test got back from a child process in one piece (execFile), kept like a child's output. */
export function captureOutputText(label: string, text: string): void {
  const dir = captureDir();
  if (!dir) return;
  const file = processLogFile(dir);
  file.write(`{"capturedFrom":"${label}"}\n${text}\n`);
}
