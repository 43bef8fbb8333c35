import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { countStatements } from '../helpers/statements.js';
import { createTestDatabase } from '../helpers/database.js';

// GraphQL `contact(id) { company { … } }` reads the contact and its company in one statement
// (contact-company-read.ts); through a fragment the Contact.company loader answers as before. Both
// shapes must give the same answer for every case the loader knows: a live company, none, a deleted
// company, a deleted contact (includeDeleted), an unknown id — and the joined one must be one statement.

const db = await createTestDatabase();
const count = countStatements(db.database);
const h = await startTestApp({ db });
t.teardown(async () => {
  await h.close();
  await db.close();
});
const admin = h.user('admin');
const sales = h.user('sales');

const JOINED = 'query($id: ID!, $d: Boolean) { contact(id: $id, includeDeleted: $d) { id firstName company { id name } } }';
const VIA_LOADER = 'query($id: ID!, $d: Boolean) { contact(id: $id, includeDeleted: $d) { id firstName ... on Contact { company { id name } } } }';

async function post(url: string, payload: Record<string, unknown>) {
  const r = await h.request({ method: 'POST', url, headers: admin.auth, payload });
  if (r.statusCode !== 201) throw new Error(r.body);
  return r.json() as { id: string };
}
const live = await post('/v1/companies', { name: 'Joined Live Co' });
const gone = await post('/v1/companies', { name: 'Joined Gone Co' });
const withLive = await post('/v1/contacts', { firstName: 'WithLive', companyId: live.id });
const withGone = await post('/v1/contacts', { firstName: 'WithGone', companyId: gone.id });
const without = await post('/v1/contacts', { firstName: 'Without' });
const deleted = await post('/v1/contacts', { firstName: 'Deleted', companyId: live.id });
for (const url of [`/v1/companies/${gone.id}`, `/v1/contacts/${deleted.id}`]) {
  const r = await h.request({ method: 'DELETE', url, headers: admin.auth });
  if (r.statusCode !== 204) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
}

t.test('the joined read and the loader give the same answers, for admin and sales', async (t) => {
  const cases = [
    { id: withLive.id, company: { id: live.id, name: 'Joined Live Co' } },
    { id: withGone.id, company: null },
    { id: without.id, company: null },
  ];
  for (const who of [admin, sales]) {
    for (const c of cases) {
      const joined = await h.gql(who, JOINED, { id: c.id });
      const loaded = await h.gql(who, VIA_LOADER, { id: c.id });
      t.same(joined.body, loaded.body, `${who.role}, contact ${c.id}: same body both ways`);
      t.same(joined.body.data?.contact.company, c.company);
    }
  }
});

t.test('deleted and unknown contacts: the same errors and includeDeleted rules both ways', async (t) => {
  const unknown = '00000000-0000-4000-8000-000000000000';
  for (const vars of [{ id: deleted.id }, { id: unknown }]) {
    const joined = await h.gql(admin, JOINED, vars);
    const loaded = await h.gql(admin, VIA_LOADER, vars);
    t.equal(joined.body.errors?.[0]?.extensions.code, 'not_found');
    t.same(joined.body.errors?.map((e) => e.extensions.code), loaded.body.errors?.map((e) => e.extensions.code));
  }
  const joined = await h.gql(admin, JOINED, { id: deleted.id, d: true });
  t.same(joined.body.data?.contact, { id: deleted.id, firstName: 'Deleted', company: { id: live.id, name: 'Joined Live Co' } });
  t.same(joined.body, (await h.gql(admin, VIA_LOADER, { id: deleted.id, d: true })).body);
  const refused = await h.gql(sales, JOINED, { id: deleted.id, d: true });
  t.equal(refused.body.errors?.[0]?.extensions.code, 'forbidden', 'only managerial roles read deleted records');
});

t.test('contact(id) { company } is one statement; through the loader it is two', async (t) => {
  await h.gql(admin, JOINED, { id: withLive.id });
  const joined = await count(() => h.gql(admin, JOINED, { id: withLive.id }));
  const loaded = await count(() => h.gql(admin, VIA_LOADER, { id: withLive.id }));
  t.equal(joined.statements, 1, 'contact and company in one statement');
  t.equal(loaded.statements, 2, 'contact, then the company loader');
  t.same(joined.result.body, loaded.result.body);
});
