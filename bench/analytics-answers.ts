import { writeFileSync } from 'node:fs';
import { passwordOf } from '../src/seed/people-accounts.js';

// The answers of the customer, service, team, kpis and marketing figures for a fixed set of
// parameters, written as one JSON file: run against two builds of the service on the same data, and
// diff the files, to show a change of how a figure is computed left its answers identical. Fields that
// follow the clock (windows ending now, when a summary was computed) are left out: two runs minutes
// apart differ there by definition.
// Usage: tsx bench/analytics-answers.ts BASE_URL OUT_FILE [account]

const [base = '', out = '', account = 'admin'] = process.argv.slice(2);
const FIGURES = ['retention', 'churn', 'repeat-purchase', 'order-value', 'new', 'lifetime-value', 'rfm', 'acquisition-cost'];
const SERVICE = ['response-times', 'sla-compliance', 'backlog', 'satisfaction'];
const QUERIES = [
  '', 'from=2025-01-01&to=2025-06-30&timeZone=Asia/Riyadh', 'from=2026-11-01T00:00:00Z', 'to=2024-06-30',
  'interval=month&timeZone=America/New_York', 'from=2026-01-01&to=2026-03-31&interval=week&timeZone=Asia/Kolkata', 'currency=KWD',
  'groupBy=assignee', 'from=2025-03-01&to=2025-09-30&groupBy=team&interval=quarter&timeZone=Asia/Riyadh', 'groupBy=team',
  'from=2025-02-10T13:30:00Z&to=2025-02-20T08:00:00Z', 'timeZone=Pacific/Kiritimati&from=2025-12-31&to=2026-02-01',
];
const login = await fetch(`${base}/v1/auth/login`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: `${account}@crm.example`, password: passwordOf(1, account) }),
});
const token = ((await login.json()) as { accessToken: string }).accessToken;
const clockFields = new Set(['to', 'windowDays', 'purchaseFrequency', 'predictedValue']);
const strip = (v: unknown, allTime: boolean): unknown => {
  if (Array.isArray(v)) return v.map((x) => strip(x, allTime));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => !(allTime && clockFields.has(k))).map(([k, x]) => [k, strip(x, allTime)]));
  }
  return v;
};
const stripAsOf = (v: unknown) => (v && typeof v === 'object' && 'asOf' in v ? { ...v, asOf: undefined } : v);
const answers: Record<string, unknown> = {};
const figures = [
  ...FIGURES.map((f) => `/v1/analytics/customers/${f}`), ...SERVICE.map((f) => `/v1/analytics/service/${f}`),
  '/v1/analytics/team/performance', '/v1/analytics/kpis', '/v1/analytics/marketing/campaigns',
];
for (const figure of figures) {
  for (const q of QUERIES) {
    // kpis from a date to now: the previous period (of the same length) moves with the clock
    if (figure.endsWith('/kpis') && q.includes('from=') && !q.includes('to=')) continue;
    const r = await fetch(`${base}${figure}?${q}`, { headers: { authorization: `Bearer ${token}` } });
    if (r.status === 400) continue; // a parameter the figure does not take
    // a summary's asOf is when it was computed, whatever the range
    answers[`${figure}?${q}`] = { status: r.status, body: strip(stripAsOf(await r.json()), !q.includes('to=')) };
  }
}
writeFileSync(out, `${JSON.stringify(answers, null, 1)}\n`);
console.log(`${Object.keys(answers).length} answers in ${out}`);
