import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

// q over contacts and companies (API.md §2): Arabic and Latin normalisation on both sides, ranking.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const tag = `srch-${randomUUID().slice(0, 8)}`;

async function contact(body: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { tags: [tag], ...body } });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json() as { id: string; firstName: string };
}
const search = async (q: string, extra: Record<string, string> = {}) => {
  const res = await h.request({ method: 'GET', url: '/v1/contacts', headers: admin.auth, query: { q, 'filter[tags][contains]': tag, ...extra } });
  if (res.statusCode !== 200) throw new Error(`search failed: ${res.body}`);
  return res.json() as { data: { id: string; firstName: string; lastName: string | null }[]; nextCursor: string | null };
};
const ids = async (q: string) => (await search(q)).data.map((c) => c.id).sort();

const ahmad = await contact({ firstName: 'أحمد', lastName: 'الشهري' });
const fatima = await contact({ firstName: 'فاطمة', lastName: 'الزهراء' });
const muhammad = await contact({ firstName: 'مُحَمَّد', lastName: 'عـــلي' });
const mustafa = await contact({ firstName: 'مصطفى', lastName: 'إبراهيم' });
const jose = await contact({ firstName: 'José', lastName: 'Müller', email: 'jm@correo.example' });
const plain = await contact({ firstName: 'Jose', lastName: 'Mullerson' });
const phoneOnly = await contact({ phone: '+966501112233' });

t.test('Arabic: hamza and alef forms, taa marbuta, alef maqsura, tashkeel and tatweel fold away', async (t) => {
  t.same(await ids('احمد'), [ahmad.id], 'أحمد by احمد');
  t.same(await ids('أحمد'), [ahmad.id], 'and by itself');
  t.same(await ids('فاطمه'), [fatima.id], 'فاطمة by فاطمه');
  t.same(await ids('محمد'), [muhammad.id], 'مُحَمَّد by محمد');
  t.same(await ids('مُحمّد'), [muhammad.id], 'partly vowelled queries too');
  t.same(await ids('علي'), [muhammad.id], 'tatweel in the stored name');
  t.same(await ids('مصطفي'), [mustafa.id], 'alef maqsura ى as ي');
  t.same(await ids('ابراهيم'), [mustafa.id], 'إ as ا');
  t.same(await ids('احمد الشهري'), [ahmad.id], 'several words must all match');
});

t.test('Latin: case and accents fold; emails and phones are searchable', async (t) => {
  t.same(await ids('jose muller'), [jose.id, plain.id].sort(), 'José Müller by jose muller (and the prefix match Mullerson)');
  t.same(await ids('MÜLLER josé'), [jose.id, plain.id].sort(), 'word order and case do not matter');
  t.same(await ids('mullerson'), [plain.id]);
  t.same(await ids('jose m'), [jose.id, plain.id].sort(), 'the last word may be a prefix');
  t.same(await ids('ose muller'), [jose.id, plain.id].sort(), 'the whole query may sit inside a word');
  t.same(await ids('ose uller'), [], 'but separate words must start words');
  t.same(await ids('correo.example'), [jose.id], 'email');
  t.same(await ids('501112233'), [phoneOnly.id], 'phone digits');
  t.same(await ids('ـــ'), [], 'a query of only tatweel matches nothing, not everything');
});

t.test('q without a sort ranks by relevance, then id; pages keep that order', async (t) => {
  const exact = await contact({ firstName: 'Rankola' });
  const longer = await contact({ firstName: 'Rankolaxyz', lastName: 'Padded Surname' });
  const first = await search('rankola');
  t.same(first.data.map((c) => c.id), [exact.id, longer.id], 'the closer match first');
  const p1 = await search('rankola', { limit: '1' });
  t.same(p1.data.map((c) => c.id), [exact.id]);
  const p2 = await search('rankola', { limit: '1', cursor: p1.nextCursor as string });
  t.same(p2.data.map((c) => c.id), [longer.id], 'the cursor carries the relevance');
  t.equal(p2.nextCursor, null);
  const sorted = await search('rankola', { sort: '-firstName' });
  t.same(sorted.data.map((c) => c.id), [longer.id, exact.id], 'an explicit sort wins');
  const count = await h.request({ method: 'GET', url: '/v1/contacts/count', headers: admin.auth, query: { q: 'RANKOLA' } });
  t.equal(count.json().count, 2);
});

t.test('companies: name and domain normalised the same way, on create and on patch', async (t) => {
  const mk = async (body: Record<string, unknown>) =>
    (await h.request({ method: 'POST', url: '/v1/companies', headers: admin.auth, payload: body })).json() as { id: string };
  const arabic = await mk({ name: 'شركة الأمانة', tags: [tag] });
  const latin = await mk({ name: 'Café Société', domain: 'cafe-societe.example', tags: [tag] });
  const find = async (q: string) =>
    ((await h.request({ method: 'GET', url: '/v1/companies', headers: admin.auth, query: { q, 'filter[tags][contains]': tag } })).json().data as { id: string }[]).map((c) => c.id);
  t.same(await find('شركه الامانه'), [arabic.id]);
  t.same(await find('cafe societe'), [latin.id]);
  t.same(await find('societe.example'), [latin.id], 'the domain');
  await h.request({ method: 'PATCH', url: `/v1/companies/${arabic.id}`, headers: admin.auth, payload: { name: 'مؤسسة النُّور' } });
  t.same(await find('الامانه'), [], 'the old name no longer matches');
  t.same(await find('مؤسسه النور'), [arabic.id], 'the new one does');
});
