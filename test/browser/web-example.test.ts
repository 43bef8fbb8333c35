import t from 'tap';
import { startLiveApp } from '../helpers/live-app.js';
import { openBrowser } from '../helpers/browser.js';
import { serveWebExample } from '../helpers/web-example.js';

// The web example (examples/web) in a real browser against a real server: a sales user signs in, sees
// the pipeline's deals by stage, drags one to another stage — and the API shows the move, made by that
// user; a card changed by someone else meanwhile is refused (If-Match), not overwritten; the customer
// 360 page shows the contact's deals, tickets, orders and timeline.

const api = await startLiveApp();
t.teardown(() => api.close());
const example = await serveWebExample(api.baseUrl);
t.teardown(() => example.close());
const browser = await openBrowser();
t.teardown(() => browser.close());
const { page } = browser;
const admin = api.user('admin');

const seller = await api.createLogin('sales', 'kanban.seller@example.com', 'a long kanban password 3');

async function asAdmin<T>(method: 'POST' | 'PATCH' | 'GET', url: string, payload?: object, headers: Record<string, string> = {}): Promise<T> {
  const res = await api.request({ method, url, headers: { ...admin.auth, ...headers }, ...(payload ? { payload } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as T;
}

type Deal = { id: string; stageId: string; position: number; version: number; name: string };
const pipeline = await asAdmin<{ id: string; stages: { id: string; name: string }[] }>('POST', '/v1/pipelines', {
  name: 'Browser sales',
  stages: [{ name: 'Qualify', probability: 10 }, { name: 'Proposal', probability: 50 }, { name: 'Won', probability: 100, kind: 'won' }],
});
const [qualify, proposal, won] = [0, 1, 2].map((i) => ({ id: pipeline.stages[i]?.id ?? '' }));
if (!qualify || !proposal || !won) throw new Error('the pipeline has three stages');
const contact = await asAdmin<{ id: string }>('POST', '/v1/contacts', { firstName: 'Layla', lastName: 'Haddad', email: 'layla@haddad.example', ownerId: seller.id });
const newDeal = (name: string, stageId: string, amount: string) =>
  asAdmin<Deal>('POST', '/v1/deals', { name, pipelineId: pipeline.id, stageId, amount, currency: 'SAR', ownerId: seller.id, contactIds: [contact.id] });
const fleet = await newDeal('Fleet renewal', qualify.id, '120000.00');
const pilot = await newDeal('Pilot project', qualify.id, '15000.50');
const upsell = await newDeal('Support upsell', proposal.id, '8000.00');
await asAdmin('POST', '/v1/tickets', { subject: 'Invoice address is wrong', requesterId: contact.id, priority: 'high' });
await asAdmin('POST', '/v1/orders', { contactId: contact.id, total: '2500.00', currency: 'SAR', status: 'paid' });

const column = (stageId: string) => page.locator(`section[data-stage-id="${stageId}"]`);
const cardNames = (stageId: string) => column(stageId).locator('.card strong').allInnerTexts();
const getDeal = (id: string) => asAdmin<Deal>('GET', `/v1/deals/${id}`);

t.test('a sales user signs in and sees the deals by stage', async (t) => {
  await page.goto(example.url);
  await page.getByLabel('Email').fill(seller.email);
  await page.getByLabel('Password').fill(seller.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await column(qualify.id).locator('.card').first().waitFor();
  t.same(await cardNames(qualify.id), ['Fleet renewal', 'Pilot project']);
  t.same(await cardNames(proposal.id), ['Support upsell']);
  t.match(await column(qualify.id).locator('.total').innerText(), 'SAR 135,000.50', 'the column total, summed exactly');
  t.match(await page.locator('nav').innerText(), seller.email);
  await browser.screenshot('web-board');
});

t.test('dragging a card to another stage moves the deal through the API', async (t) => {
  // dropped above "Support upsell": the first place of Proposal
  await column(qualify.id).locator('.card', { hasText: 'Pilot project' }).dragTo(column(proposal.id).locator('.card', { hasText: 'Support upsell' }), { targetPosition: { x: 20, y: 5 } });
  await column(proposal.id).locator('.card', { hasText: 'Pilot project' }).waitFor();
  t.same(await cardNames(proposal.id), ['Pilot project', 'Support upsell'], 'the board shows the move');
  t.same(await cardNames(qualify.id), ['Fleet renewal']);

  const moved = await getDeal(pilot.id);
  t.equal(moved.stageId, proposal.id, 'GET /v1/deals/:id has the new stage');
  t.equal(moved.position, 0);
  t.equal(moved.version, pilot.version + 1);
  t.equal((await getDeal(upsell.id)).position, 1, 'the card below it moved down');
  const history = await asAdmin<{ data: { fromStageId: string; toStageId: string; changedBy: string }[] }>('GET', `/v1/deals/${pilot.id}/history`);
  t.match(history.data.find((change) => change.toStageId === proposal.id), { fromStageId: qualify.id, toStageId: proposal.id, changedBy: seller.id }, 'moved by the signed-in user');
  await browser.screenshot('web-board-after-drag');
});

t.test('a card changed elsewhere since the board loaded is not overwritten by a drag', async (t) => {
  // someone else moves "Fleet renewal" to Won through the API; this board still shows it in Qualify
  await asAdmin('PATCH', `/v1/deals/${fleet.id}`, { stageId: won.id });
  await column(qualify.id).locator('.card', { hasText: 'Fleet renewal' }).dragTo(column(proposal.id).locator('.cards'));
  await page.locator('#notice').filter({ hasText: 'was changed by someone else' }).waitFor();
  t.equal((await getDeal(fleet.id)).stageId, won.id, 'the other change stands');
  await column(won.id).locator('.card', { hasText: 'Fleet renewal' }).waitFor();
  t.same(await cardNames(qualify.id), [], 'the board was reloaded from the API');
  await browser.screenshot('web-board-conflict');
});

t.test('the customer 360 page shows profile, deals, tickets, orders and timeline', async (t) => {
  await column(proposal.id).locator('.card', { hasText: 'Pilot project' }).getByRole('link', { name: /Customer 360/ }).click();
  await page.getByRole('heading', { name: 'Layla Haddad' }).waitFor();
  t.match(await page.getByRole('region', { name: 'Profile' }).innerText(), 'layla@haddad.example');
  const deals = await page.getByRole('region', { name: 'Open deals' }).innerText();
  t.match(deals, 'Pilot project');
  t.match(deals, 'Support upsell');
  t.notMatch(deals, 'Fleet renewal', 'a won deal is not open');
  t.match(await page.getByRole('region', { name: 'Open tickets' }).innerText(), 'Invoice address is wrong');
  t.match(await page.getByRole('region', { name: 'Figures' }).innerText(), /Orders\s+1 · SAR 2,500\.00/);
  const timeline = page.getByRole('region', { name: 'Timeline' });
  t.ok(await timeline.locator('li').count(), 'the timeline has entries');
  await browser.screenshot('web-customer-360');
});

t.test('the example needed nothing outside this machine and threw no errors', async (t) => {
  t.same(browser.offMachineRequests, []);
  // the refused drag is a 412 the browser logs as a failed resource; anything else is a fault
  t.same(browser.pageErrors.filter((e) => !/status of 412/.test(e)), []);
});
