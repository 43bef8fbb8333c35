import t from 'tap';
import { startLiveApp } from '../helpers/live-app.js';
import { openBrowser } from '../helpers/browser.js';

// GraphiQL at /graphiql in development, in a real browser: it loads from this server alone, reads the
// schema, and runs a query with a token given in its Headers editor.

const api = await startLiveApp({ env: { NODE_ENV: 'development' } });
t.teardown(() => api.close());
const browser = await openBrowser();
t.teardown(() => browser.close());
const { page } = browser;

const user = await api.createLogin('support', 'graphiql.user@example.com', 'a long graphiql password 7');
const { accessToken } = (await fetch(`${api.baseUrl}/v1/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: user.email, password: user.password }),
}).then((r) => r.json())) as { accessToken: string };

/** The text of a GraphiQL editor, from CodeMirror 5 itself (the DOM also holds gutters and fold markers). */
const editorText = (selector: string) =>
  page.locator(`${selector} .CodeMirror`).first().evaluate((el) => (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());

t.test('GraphiQL loads and reads the schema of this server', async (t) => {
  await page.goto(`${api.baseUrl}/graphiql`);
  await page.locator('.graphiql-container .graphiql-query-editor .CodeMirror').waitFor();
  t.match(await editorText('.graphiql-query-editor'), /query Me/, 'the default query is in the editor');
  await page.getByRole('button', { name: /Show Documentation Explorer/ }).click();
  const explorer = page.locator('.graphiql-doc-explorer');
  await explorer.getByText('Query', { exact: true }).first().waitFor();
  await explorer.getByText('Query', { exact: true }).first().click();
  await explorer.getByText('contacts', { exact: true }).first().waitFor();
  t.pass('the documentation explorer lists the root fields from introspection');
  await browser.screenshot('graphiql-loaded');
});

t.test('a query with a bearer token in the Headers editor answers with the caller', async (t) => {
  const headers = page.locator('.graphiql-editor-tool .CodeMirror:visible');
  await headers.click();
  await page.keyboard.press('ControlOrMeta+A');
  // insertText types no keystrokes, so the editor's bracket auto-closing adds nothing to it
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${accessToken}` }));
  await page.getByRole('button', { name: /Execute query/ }).click();
  await page.locator('.result-window').getByText(user.email).waitFor();
  const answer = JSON.parse(await editorText('.result-window')) as { data: { me: { id: string; email: string; role: string } } };
  t.same(answer.data.me, { id: user.id, email: user.email, role: 'support' });
  await browser.screenshot('graphiql-query');
});

t.test('GraphiQL needed nothing outside this machine and raised no errors', async (t) => {
  t.same(browser.offMachineRequests, []);
  t.same(browser.pageErrors, []);
});
