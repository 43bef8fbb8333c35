import { passwordOf } from '../src/seed/people-accounts.js';
import { analyticsPaths } from './analytics.js';

// A focused loop over every analytics endpoint of openapi.yaml against an already running service
// (the bench's own parameters: none), as an admin and as a sales rep: median of RUNS requests each.
// Usage: tsx bench/time-analytics-endpoints.ts BASE_URL [runs] [only-substring]

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const runs = Number(process.argv[3] ?? 3);
const only = process.argv[4];
/** a request still running after this long is recorded as a timeout (status 0) */
const timeoutMs = Number(process.env.REQUEST_TIMEOUT_MS ?? 120_000);
const who = (process.env.ACCOUNTS ?? 'admin,sales1').split(',');

async function signIn(key: string): Promise<string> {
  const r = await fetch(`${base}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `${key}@crm.example`, password: passwordOf(1, key) }),
  });
  if (!r.ok) throw new Error(`login ${key}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { accessToken: string }).accessToken;
}

for (const account of who) {
  const token = await signIn(account);
  for (const path of analyticsPaths().filter((p) => !only || p.includes(only))) {
    const times: number[] = [];
    let status = 0;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      try {
        const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
        await r.arrayBuffer();
        status = r.status;
      } catch {
        status = 0;
      }
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(`${account}\t${path}\t${status}\t${Math.round(times[Math.floor(runs / 2)]!)}\t${times.map(Math.round).join(',')}`);
  }
}
