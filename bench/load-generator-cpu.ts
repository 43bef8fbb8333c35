import { fork } from 'node:child_process';
import http from 'node:http';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';

// npm run bench:load-generator: the load generator's own CPU per request (this process: autocannon,
// as the bench drives the service) against a stub server that answers at once, for a REST GET by id
// and for the GraphQL by-id POST, with the request built per request (as the bench did) or taken from
// a pool built beforehand (as it does now). Five rounds in turn, min and median of each: the figure
// says how much of a scenario's two shared cores the generator itself takes, door by door.

if (process.env.STUB_PORT) {
  const answer = Buffer.from(JSON.stringify({ data: { contact: { id: '018c6ea8-0b40-717e-8201-000000001818', firstName: 'محمد', lastName: 'العتيبي' } } }));
  http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length }).end(answer));
  }).listen(Number(process.env.STUB_PORT), '127.0.0.1', () => process.send?.('ready'));
} else {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const stub = fork(new URL(import.meta.url).pathname, [], { env: { ...process.env, STUB_PORT: String(port) }, execArgv: ['--import', 'tsx'] });
  await new Promise((ready) => stub.once('message', ready));
  const ids = Array.from({ length: 20000 }, (_, i) => `018c6ea8-0b40-717e-8201-${String(i).padStart(12, '0')}`);
  const QUERY = 'query($id: ID!) { contact(id: $id) { id firstName lastName email phone lifecycleStage version company { id name } } }';
  const headers = { authorization: `Bearer ${'x'.repeat(300)}` };
  type Spec = { method: 'GET' | 'POST'; path: string; body?: string };
  const rotate = (specs: Spec[]) => { let i = 0; return () => specs[i++ % specs.length]!; };
  let i = 0;
  const modes: Record<string, () => Spec> = {
    'REST GET, built per request': () => ({ method: 'GET', path: `/v1/contacts/${ids[i++ % ids.length]}` }),
    'GraphQL POST, built per request': () => ({ method: 'POST', path: '/graphql', body: JSON.stringify({ query: QUERY, variables: { id: ids[i++ % ids.length] } }) }),
    'REST GET, from a pool': rotate(ids.map((id) => ({ method: 'GET', path: `/v1/contacts/${id}` }))),
    'GraphQL POST, from a pool': rotate(ids.map((id) => ({ method: 'POST', path: '/graphql', body: JSON.stringify({ query: QUERY, variables: { id } }) }))),
  };
  const fire = (next: () => Spec, amount: number) => autocannon({
    url: `http://127.0.0.1:${port}`, connections: 50, amount, headers,
    requests: [{ setupRequest: (req) => { const s = next(); return { ...req, method: s.method, path: s.path, ...(s.body ? { body: s.body } : {}), headers: { ...headers, 'content-type': 'application/json' } }; } }],
  });
  const load0 = loadavg()[0]!;
  for (const next of Object.values(modes)) await fire(next, 5000);
  const seen = new Map<string, number[]>();
  for (let round = 0; round < 5; round++) {
    for (const [name, next] of Object.entries(modes)) {
      const before = process.cpuUsage();
      const r = await fire(next, 20000);
      const used = process.cpuUsage(before);
      seen.set(name, [...(seen.get(name) ?? []), (used.user + used.system) / r.requests.total]);
    }
  }
  for (const [name, us] of seen) {
    const sorted = [...us].sort((a, b) => a - b);
    console.log(JSON.stringify({ mode: name, loadGeneratorCpuUsPerReq: { min: Math.round(sorted[0]!), median: Math.round(sorted[2]!) } }));
  }
  console.log(`load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`);
  stub.kill();
}
