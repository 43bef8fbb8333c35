import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// The mechanism is per entity: contact definitions check contact writes only, and their unique
// index, filters and sorts live on the contacts table.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');

for (const d of [
  { key: 'loyalty_id', type: 'text', unique: true },
  { key: 'tier', type: 'select', options: ['gold', 'silver'] },
  { key: 'birthday', type: 'date' },
]) {
  const res = await h.request({ method: 'POST', url: '/v1/custom-fields', headers: admin.auth, payload: { entity: 'contact', label: d.key, ...d } });
  if (res.statusCode !== 201) throw new Error(res.body);
}
const create = (payload: Record<string, unknown>) => h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload });

t.test('contact values are checked against contact definitions, not company ones', async (t) => {
  const ok = await create({ firstName: 'Sara', tags: ['cfc'], custom: { tier: 'gold', loyalty_id: 'L1', birthday: '1990-05-01' } });
  t.equal(ok.statusCode, 201, ok.body);
  t.same(ok.json().custom, { tier: 'gold', loyalty_id: 'L1', birthday: '1990-05-01' });
  const bad = await create({ firstName: 'Omar', custom: { tier: 'bronze', birthday: '1990-02-30' } });
  t.equal(bad.statusCode, 400);
  t.same(bad.json().errors.map((e: { path: string }) => e.path).sort(), ['custom.birthday', 'custom.tier']);
  const company = await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: 'Co', custom: { tier: 'gold' } } });
  t.equal(company.statusCode, 400, 'a contact field is unknown on companies');
  t.same(company.json().errors, [{ path: 'custom.tier', message: 'is not a defined custom field' }]);
});

t.test('unique on contacts: 409, and concurrent writers make one', async (t) => {
  const dup = await create({ firstName: 'Dup', custom: { loyalty_id: 'L1' } });
  t.equal(dup.statusCode, 409);
  t.same(dup.json().errors, [{ path: 'custom.loyalty_id', message: 'is already taken' }]);
  const racers = await Promise.all(Array.from({ length: 5 }, (_, i) => create({ firstName: `R${i}`, custom: { loyalty_id: 'RACE' } })));
  t.same(racers.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409]);
});

t.test('filters and sorts on contact custom fields', async (t) => {
  await create({ firstName: 'Lina', tags: ['cfc'], custom: { tier: 'silver', birthday: '1985-01-01' } });
  await create({ firstName: 'Nour', tags: ['cfc'], custom: { tier: 'gold', birthday: '2000-12-12' } });
  const res = await h.request({
    method: 'GET', url: '/v1/contacts', headers: admin.auth,
    query: { 'filter[tags][contains]': 'cfc', 'filter[custom.tier][eq]': 'gold', sort: '-custom.birthday' },
  });
  t.equal(res.statusCode, 200, res.body);
  t.same(res.json().data.map((c: { firstName: string }) => c.firstName), ['Nour', 'Sara']);
  const unknown = await h.request({ method: 'GET', url: '/v1/contacts', headers: admin.auth, query: { 'filter[custom.nope][eq]': 'x' } });
  t.equal(unknown.statusCode, 400);
});
