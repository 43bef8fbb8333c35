import cliProgress from 'cli-progress';

/** How far a long command is: a bar on a terminal, a line per step when the output is a file or a pipe (CI logs). */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: `${label} [{bar}] {percentage}% | {value}/{total} rows | {eta_formatted} left`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) bar.start(total, done);
        else bar.update(done);
        bar.setTotal(total);
        started = true;
      },
      stop: () => bar.stop(),
    };
  }
  let last = -1;
  return {
    update(done, total) {
      if (done === last) return;
      last = done;
      stream.write(`${label}: ${done}/${total} rows\n`);
    },
    stop: () => undefined,
  };
}
