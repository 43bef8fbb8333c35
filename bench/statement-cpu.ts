import { readFileSync } from 'node:fs';
import pg from 'pg';

// Backend CPU (from /proc/<pid>/stat) and wall time of each statement of a file, run one after another
// in one session with the analytics settings (jit off, work_mem 64MB) and no parallel workers, so the
// CPU figure is the whole statement's. Statements are separated by lines holding only `;;`.
// Usage: tsx bench/statement-cpu.ts DATABASE_URL file.sql [runs]

const [url, file, runsArg = '3'] = process.argv.slice(2) as [string, string, string?];
const c = new pg.Client({ connectionString: url });
await c.connect();
await c.query("SET jit = off; SET work_mem = '64MB'; SET max_parallel_workers_per_gather = 0");
const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const ticks = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
for (const [i, text] of readFileSync(file, 'utf8').split(/^;;$/m).map((s) => s.trim()).filter(Boolean).entries()) {
  const cpu: number[] = [], wall: number[] = [];
  let rows = '';
  for (let r = 0; r < Number(runsArg); r++) {
    const t0 = ticks(), w0 = performance.now();
    const res = await c.query(text);
    wall.push(performance.now() - w0);
    cpu.push((ticks() - t0) * 10);
    rows = JSON.stringify(res.rows).slice(0, 300);
  }
  console.log(`#${i + 1} cpu ${median(cpu)} ms, wall ${Math.round(median(wall))} ms: ${text.split('\n')[0]!.slice(0, 80)}\n   ${rows}`);
}
await c.end();
