import pg from 'pg';

// Preloaded into a server by bench/read-cpu.ts (`--import ./bench/count-statements.ts`): counts the
// SQL statements the process sends through node-postgres, so the bench can report statements per
// request. The count is asked for over the fork's IPC channel ('statements?' → { statements }).
// Every statement goes through Client#query (Pool#query and drizzle's prepared queries included).

let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  statements++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

process.on('message', (m) => {
  if (m === 'statements?') process.send?.({ statements });
});
