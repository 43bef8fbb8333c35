import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { parse } from 'csv-parse/sync';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { startTestApp, type TestUser } from '../helpers/app.js';

// ?format=csv and ?format=svg on the analytics endpoints (docs/metrics.md "Formats"): the CSV parsed
// back and the SVG parsed as XML, values, labels, escaping and right-to-left labels checked.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');

const call = (url: string, who: TestUser = admin) => h.request({ method: 'GET', url, headers: who.auth });
async function made(method: 'POST' | 'PATCH', url: string, payload: object) {
  const res = await h.request({ method, url, headers: admin.auth, payload });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} failed: ${res.body}`);
  return res.json();
}
const csvOf = async (url: string, who: TestUser = admin) => {
  const res = await call(url, who);
  t.equal(res.statusCode, 200, res.body);
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
  t.ok(res.body.startsWith('\uFEFF'), 'UTF-8 with a BOM');
  return parse(res.body, { bom: true }) as string[][];
};
const svgOf = async (url: string) => {
  const res = await call(url);
  t.equal(res.statusCode, 200, res.body);
  t.equal(res.headers['content-type'], 'image/svg+xml; charset=utf-8');
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => { if (level !== 'warning') errors.push(message); } }).parseFromString(res.body, 'image/svg+xml');
  t.same(errors, [], 'well-formed XML');
  const all = (tag: string) => Array.from(doc.getElementsByTagName(tag)) as Element[];
  const texts = (cls: string) => all('text').filter((e) => e.getAttribute('class') === cls);
  return { root: doc.documentElement as Element, all, texts };
};

const userA = await made('POST', '/v1/users', { email: `fa-${randomUUID().slice(0, 8)}@s.example`, password: `pw-${randomUUID()}`, name: 'A', role: 'sales', teamIds: [] });
const salesA = h.user('sales', { id: userA.id });
const p = await made('POST', '/v1/pipelines', { name: 'F', stages: [{ name: 'Q', probability: 10 }, { name: 'Won', probability: 100, kind: 'won' }, { name: 'Lost', probability: 0, kind: 'lost' }] });
const [q, won, lost] = p.stages.map((s: { id: string }) => s.id) as [string, string, string];
async function closed(status: 'won' | 'lost', at: string, o: object = {}) {
  const d = await made('POST', '/v1/deals', { name: 'F', pipelineId: p.id, stageId: q, ...o });
  await made('PATCH', `/v1/deals/${d.id}`, { stageId: status === 'won' ? won : lost, ...(status === 'lost' ? { lostReason: 'x' } : {}) });
  await db.execute(sql`UPDATE deals SET created_at = ${at}::timestamptz - interval '2 days', closed_at = ${at}::timestamptz WHERE id = ${d.id}`);
}
// January: won 100.00 SAR (A's) and 2.000 KWD; February: nothing; March: one lost
await closed('won', '2026-01-10T00:00:00Z', { amount: '100.00', currency: 'SAR', ownerId: userA.id });
await closed('won', '2026-01-20T00:00:00Z', { amount: '2.000', currency: 'KWD' });
await closed('lost', '2026-03-05T00:00:00Z');

const ARABIC = 'حملة "رمضان" <الكبرى> & عيد';
await made('POST', '/v1/campaigns', { name: ARABIC, channel: 'ads', spend: '10.00', currency: 'SAR' });
await made('POST', '/v1/campaigns', { name: '=HYPERLINK("http://x.example")', channel: 'event', spend: '5.00', currency: 'SAR' });

const Q1 = 'from=2026-01-01&to=2026-03-31';

t.test('CSV of a series: one row per bucket, dotted columns', async (t) => {
  const rows = await csvOf(`/v1/analytics/sales/win-rate?${Q1}&interval=month&format=csv`);
  t.same(rows, [
    ['period', 'winRate', 'won', 'lost'],
    ['2026-01-01', '1', '2', '0'],
    ['2026-02-01', '', '0', '0'],
    ['2026-03-01', '0', '0', '1'],
  ]);
  // a bucket with a list per currency: one row per bucket and currency; an empty bucket stays a row
  const size = await csvOf(`/v1/analytics/sales/deal-size?${Q1}&interval=month&format=csv`);
  t.same(size, [
    ['period', 'byCurrency.currency', 'byCurrency.count', 'byCurrency.total', 'byCurrency.average'],
    ['2026-01-01', 'KWD', '1', '2.000', '2.000'],
    ['2026-01-01', 'SAR', '1', '100.00', '100.00'],
    ['2026-02-01', '', '', '', ''],
    ['2026-03-01', '', '', '', ''],
  ]);
  const nested = await csvOf(`/v1/analytics/service/response-times?${Q1}&interval=quarter&format=csv`);
  t.equal(nested[0]?.[0], 'period');
  t.ok(nested[0]?.includes('business.firstResponse.medianMinutes'), 'nested objects become dotted columns');
});

t.test('CSV of a single figure: one row; of a list: one row per element; scope applies', async (t) => {
  t.same(await csvOf(`/v1/analytics/sales/win-rate?${Q1}&format=csv`), [
    ['from', 'to', 'timeZone', 'winRate', 'won', 'lost'],
    ['2026-01-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', 'UTC', String(2 / 3), '2', '1'],
  ]);
  t.same((await csvOf(`/v1/analytics/sales/win-rate?${Q1}&format=csv`, salesA))[1]?.slice(3), ['1', '1', '0'], 'a rep\'s own deals only');

  const campaigns = await csvOf('/v1/analytics/marketing/campaigns?format=csv');
  const header = campaigns[0] as string[];
  const names = campaigns.slice(1).map((r) => r[header.indexOf('name')]);
  t.same(names.sort(), [`'=HYPERLINK("http://x.example")`, ARABIC].sort(), 'quotes, commas and Arabic survive; a formula is neutralised');
  t.ok(header.includes('spend.amount') && header.includes('spend.currency'));
});

t.test('SVG of a series: a line per measure over labelled periods', async (t) => {
  const svg = await svgOf(`/v1/analytics/sales/win-rate?${Q1}&interval=month&format=svg`);
  t.equal(svg.root.tagName, 'svg');
  t.equal(svg.root.getAttribute('xmlns'), 'http://www.w3.org/2000/svg');
  t.same(svg.texts('x-tick').map((e) => e.textContent), ['2026-01-01', '2026-02-01', '2026-03-01']);
  t.same(svg.texts('x-title').map((e) => e.textContent), ['period']);
  t.same(svg.texts('y-title').map((e) => e.textContent), ['value']);
  t.same(svg.texts('title').map((e) => e.textContent), ['sales/win-rate']);
  // y ticks run from 0 to the largest value, 2 won deals
  t.same(svg.texts('y-tick').map((e) => e.textContent), ['0', '0.5', '1', '1.5', '2']);
  t.same(svg.all('polyline').map((e) => e.getAttribute('data-measure')), ['winRate', 'won', 'lost']);
  t.equal(svg.all('polyline')[1]?.getAttribute('points')?.split(' ').length, 3, 'one point per bucket');
});

t.test('SVG of a list: bars labelled by name, right-to-left labels marked and escaped', async (t) => {
  const svg = await svgOf('/v1/analytics/marketing/campaigns?format=svg');
  const ticks = svg.texts('x-tick');
  const arabic = ticks.find((e) => e.textContent === ARABIC);
  t.ok(arabic, 'the Arabic name is a label, unescaped by the XML parser');
  t.equal(arabic?.getAttribute('direction'), 'rtl');
  t.equal(arabic?.getAttribute('unicode-bidi'), 'embed');
  const latin = ticks.find((e) => e.textContent?.startsWith('=HYPERLINK'));
  t.equal(latin?.getAttribute('direction'), null, 'left-to-right text is left alone');
  t.ok(svg.all('rect').some((e) => e.getAttribute('class') === 'bar'), 'bars drawn');

  const single = await svgOf(`/v1/analytics/sales/win-rate?${Q1}&format=svg`);
  t.same(single.all('rect').filter((e) => e.getAttribute('class') === 'bar').map((e) => [e.getAttribute('data-measure'), e.getAttribute('data-value')]),
    [['winRate', String(2 / 3)], ['won', '2'], ['lost', '1']], 'a single figure: a bar per measure');

  const empty = await svgOf('/v1/analytics/sales/deal-size?from=2020-01-01&to=2020-01-31&format=svg');
  t.same(empty.texts('no-data').map((e) => e.textContent), ['no data']);
});

t.test('bad format: 400 problem+json; errors stay JSON; every area renders', async (t) => {
  const bad = await call('/v1/analytics/sales/win-rate?format=xlsx');
  t.equal(bad.statusCode, 400);
  t.match(bad.headers['content-type'], /application\/problem\+json/);
  t.match(bad.json(), { code: 'validation_failed', errors: [{ path: 'format' }] });
  const refused = await call('/v1/analytics/sales/win-rate?format=csv', h.user('support'));
  t.equal(refused.statusCode, 403);
  t.match(refused.headers['content-type'], /application\/problem\+json/);
  for (const url of ['/v1/analytics/kpis', '/v1/analytics/customers/rfm', '/v1/analytics/service/backlog', '/v1/analytics/team/performance', '/v1/analytics/sales/funnel']) {
    const csv = await call(`${url}?format=csv`);
    t.equal(csv.statusCode, 200, `${url} ${csv.body}`);
    t.ok(parse(csv.body, { bom: true }).length >= 2, `${url}: a header and rows`);
    const svg = await call(`${url}?format=svg`);
    t.equal(svg.headers['content-type'], 'image/svg+xml; charset=utf-8', url);
  }
  const json = await call(`/v1/analytics/sales/win-rate?${Q1}&format=json`);
  t.match(json.json(), { won: 2, lost: 1 });
});
