import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// Money and currency are checked together, whichever of the two a write changes.
t.test('currency changes are checked against the stored amount', async (t) => {
  const h = await startTestApp();
  t.teardown(() => h.close());
  const admin = h.user('admin');
  const created = await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: { name: 'M', annualRevenue: '1234.50', currency: 'SAR' } });
  t.equal(created.statusCode, 201);
  const id = created.json().id;

  const toJpy = await h.request({ method: 'PATCH', url: `/v1/companies/${id}`, headers: admin.auth, payload: { currency: 'JPY' } });
  t.equal(toJpy.statusCode, 400, 'JPY has no minor unit for .50');
  t.same(toJpy.json().errors.map((e: { path: string }) => e.path), ['currency']);

  const clear = await h.request({ method: 'PATCH', url: `/v1/companies/${id}`, headers: admin.auth, payload: { currency: null } });
  t.equal(clear.statusCode, 400, 'an amount cannot lose its currency');
  t.same(clear.json().errors.map((e: { path: string }) => e.path), ['currency']);

  const toKwd = await h.request({ method: 'PATCH', url: `/v1/companies/${id}`, headers: admin.auth, payload: { currency: 'KWD' } });
  t.equal(toKwd.statusCode, 200, 'KWD has 3 decimals: 1234.50 fits');
  t.equal(toKwd.json().annualRevenue, '1234.500');

  const both = await h.request({ method: 'PATCH', url: `/v1/companies/${id}`, headers: admin.auth, payload: { currency: null, annualRevenue: null } });
  t.equal(both.statusCode, 200, 'clearing both together is fine');
  t.equal(both.json().annualRevenue, null);

  const after = await h.request({ method: 'GET', url: `/v1/companies/${id}`, headers: admin.auth });
  t.equal(after.json().version, 3, 'only the two accepted patches changed the record');
});
