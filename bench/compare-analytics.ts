import { passwordOf } from '../src/seed/people-accounts.js';

// Same answers before and after a change of an analytics statement: requests every sales and team figure
// with a set of parameters (all time, ranges, intervals, groupings, time zones) from two running servers
// on the same database — one built from main, one from the branch — as admin and as a sales rep, and
// prints every response that differs. Usage: tsx bench/compare-analytics.ts BASE_URL_A BASE_URL_B

const [a = '', b = ''] = process.argv.slice(2);
const who = (process.env.ACCOUNTS ?? 'admin,sales1').split(',');

const ranges = ['', 'from=2025-01-01&to=2025-06-30', 'from=2024-03-01T10:00:00Z&to=2026-02-01', 'from=2025-11-01', 'to=2025-02-15&timeZone=Asia/Riyadh'];
const paths: string[] = [];
for (const r of ranges) {
  const q = (extra: string) => [r, extra].filter(Boolean).join('&');
  paths.push(
    `/v1/analytics/sales/funnel?${q('')}`,
    `/v1/analytics/sales/stage-duration?${q('')}`,
    `/v1/analytics/sales/win-rate?${q('groupBy=owner&interval=quarter')}`,
    `/v1/analytics/sales/cycle-length?${q('groupBy=pipeline&interval=month')}`,
    `/v1/analytics/sales/deal-size?${q('groupBy=team')}`,
    `/v1/analytics/sales/velocity?${q('')}`,
    `/v1/analytics/sales/lead-sources?${q('')}`,
    `/v1/analytics/team/performance?${q('')}`,
    `/v1/analytics/team/performance?${q('groupBy=team')}`,
  );
}
paths.push(
  '/v1/analytics/sales/forecast-accuracy', '/v1/analytics/sales/forecast-accuracy?interval=quarter&timeZone=Asia/Riyadh',
  '/v1/analytics/sales/forecast-accuracy?from=2025-01-01&to=2025-12-31&interval=week',
  '/v1/analytics/sales/forecast-accuracy?from=2025-03-01&to=2025-03-31&interval=day',
);

async function signIn(base: string, key: string): Promise<string> {
  const r = await fetch(`${base}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `${key}@crm.example`, password: passwordOf(1, key) }),
  });
  if (!r.ok) throw new Error(`login ${key}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { accessToken: string }).accessToken;
}

let differ = 0;
for (const account of who) {
  const [ta, tb] = [await signIn(a, account), await signIn(b, account)];
  for (const path of paths) {
    const get = async (base: string, token: string) => {
      const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return `${r.status} ${await r.text()}`;
    };
    const [x, y] = [await get(a, ta), await get(b, tb)];
    if (x !== y) {
      differ++;
      console.log(`DIFFERS ${account} ${path}\n  A: ${x.slice(0, 400)}\n  B: ${y.slice(0, 400)}`);
    } else console.log(`same ${account} ${path} (${x.length} bytes)`);
  }
}
console.log(`${differ} differ`);
process.exitCode = differ ? 1 : 0;
