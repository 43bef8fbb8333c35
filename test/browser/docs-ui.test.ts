import t from 'tap';
import { startLiveApp } from '../helpers/live-app.js';
import { openBrowser } from '../helpers/browser.js';

// The docs UI at /docs in a real browser: it renders the spec from this server, and "Try it out" with a
// token from a real login calls the API and shows the answer in the page.

const api = await startLiveApp();
t.teardown(() => api.close());
const browser = await openBrowser();
t.teardown(() => browser.close());
const { page } = browser;

const user = await api.createLogin('sales', 'docs.reader@example.com', 'a long docs password 42');
const login = await fetch(`${api.baseUrl}/v1/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: user.email, password: user.password }),
});
const { accessToken } = (await login.json()) as { accessToken: string };
const company = await fetch(`${api.baseUrl}/v1/companies`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
  body: JSON.stringify({ name: 'Docs Try-It Trading', domain: 'try-it.example' }),
}).then((r) => r.json() as Promise<{ id: string }>);

t.test('the docs UI renders the API from this server', async (t) => {
  await page.goto(`${api.baseUrl}/docs`);
  await page.locator('.swagger-ui .info .title').filter({ hasText: 'Headless CRM API' }).waitFor();
  // the UI renders the operations of the visible part of the page only: look at the first tags
  const listCompanies = page.locator('#operations-companies-listCompanies');
  await listCompanies.waitFor();
  t.match(await listCompanies.innerText(), '/v1/companies', 'the operations are listed with their paths');
  await browser.screenshot('docs-loaded');
});

t.test('"Try it out" with a bearer token calls GET /v1/companies/{id} and shows the answer', async (t) => {
  await page.getByRole('button', { name: 'Authorize' }).first().click();
  const dialog = page.locator('.modal-ux');
  await dialog.locator('#auth-bearer-value').fill(accessToken);
  await dialog.getByRole('button', { name: 'Apply credentials' }).click();
  await dialog.getByRole('button', { name: 'Close' }).click();

  const op = page.locator('#operations-companies-getCompany');
  await op.locator('.opblock-summary-control').click();
  await op.getByRole('button', { name: 'Try it out' }).click();
  await op.locator('tr[data-param-name="id"] input').fill(company.id);
  await op.getByRole('button', { name: 'Execute' }).click();

  const live = op.locator('.live-responses-table');
  await live.locator('.response-col_status').filter({ hasText: '200' }).waitFor();
  const body = await live.locator('.response-col_description pre').first().innerText();
  const shown = JSON.parse(body) as { id: string; name: string; ownerId: string };
  t.equal(shown.id, company.id);
  t.equal(shown.name, 'Docs Try-It Trading', 'the page shows the answer of the API');
  t.equal(shown.ownerId, user.id, 'the company made with the same token');
  t.match(await op.locator('.curl-command, .curl').first().innerText(), `Bearer ${accessToken}`, 'the call carried the token');
  await browser.screenshot('docs-try-it');
});

t.test('the docs page needed nothing outside this machine and raised no errors', async (t) => {
  t.same(browser.offMachineRequests, []);
  t.same(browser.pageErrors, []);
});
