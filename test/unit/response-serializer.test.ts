import t from 'tap';
import { z } from 'zod';
import { toSerializableJsonSchema, zodFastSerializerCompiler } from '../../src/platform/http/serializer.js';
import { Contact } from '../../src/modules/customer/contact.schema.js';

// Response serialisers (serializer.ts) write nullable fields by `type: [X, 'null']` instead of an
// anyOf that fast-json-stringify would resolve by validating each value. The output must be what it
// was: every value, null or not, written as JSON.stringify writes it; a real union keeps its anyOf.

const serialize = (schema: z.ZodType) => zodFastSerializerCompiler({ schema });
const anyOfs = (node: unknown): number =>
  Array.isArray(node) ? node.reduce((n: number, x) => n + anyOfs(x), 0)
    : node && typeof node === 'object' ? Object.entries(node).reduce((n, [k, v]) => n + (k === 'anyOf' ? 1 : 0) + anyOfs(v), 0) : 0;

const Stage = z.enum(['lead', 'customer']).meta({ id: 'TestStage' });
const Place = z.object({ city: z.string().nullable(), country: z.string().nullable() }).meta({ id: 'TestPlace' });
const Item = z.object({
  id: z.uuid(),
  parentId: z.uuid().nullable(),
  at: z.iso.datetime().nullable(),
  stage: Stage.nullable(),
  place: Place.nullable(),
  score: z.number().nullable(),
  either: z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]),
}).meta({ id: 'TestItem' });
const Page = z.object({ data: z.array(Item), nextCursor: z.string().nullable() });

t.test('nullable fields lose their anyOf; a real union keeps it', async (t) => {
  t.equal(anyOfs(toSerializableJsonSchema(Page)), 1, 'only `either`');
  t.equal(anyOfs(toSerializableJsonSchema(Contact)), 0, 'a contact (with its company and owner) has no anyOf left');
});

t.test('the same output as JSON.stringify, null or not', async (t) => {
  const full = {
    id: '0190a8b2-0000-7000-8000-000000000001', parentId: '0190a8b2-0000-7000-8000-000000000002', at: '2026-12-07T22:00:00.000Z',
    stage: 'customer', place: { city: 'الرياض', country: 'SA' }, score: 4.5, either: { b: 3 },
  };
  const empty = { id: full.id, parentId: null, at: null, stage: null, place: null, score: null, either: { a: 'x' } };
  const half = { ...full, place: { city: null, country: 'DE' }, either: { a: 'y' } };
  const page = { data: [full, empty, half], nextCursor: null };
  t.equal(serialize(Page)(page), JSON.stringify(page));
  t.equal(serialize(Page)({ ...page, nextCursor: 'abc' }), JSON.stringify({ ...page, nextCursor: 'abc' }));
});

t.test('a contact with and without its nullable parts', async (t) => {
  const base = {
    id: '0190a8b2-0000-7000-8000-000000000003', createdAt: '2026-12-07T22:00:00.000Z', updatedAt: '2026-12-07T22:00:01.000Z', version: 2,
    deletedAt: null, firstName: 'نورة', lastName: null, email: 'n@example.com', phone: null, additionalEmails: [], additionalPhones: ['+966501234567'],
    jobTitle: null, companyId: null, address: null, tags: ['vip'], lifecycleStage: null, source: null, externalIds: { erp: 'E1' },
    emailOptIn: true, smsOptIn: false, consentSource: null, emailOptInAt: null, smsOptInAt: null, ownerId: null, teamId: null, custom: {},
  };
  const filled = {
    ...base, deletedAt: '2026-12-07T23:00:00.000Z', companyId: '0190a8b2-0000-7000-8000-000000000004', lifecycleStage: 'customer',
    address: { line1: 'King Fahd Rd', line2: null, city: 'Riyadh', region: null, postalCode: '12345', country: 'SA' },
    emailOptInAt: '2026-12-07T21:00:00.000Z', ownerId: '0190a8b2-0000-7000-8000-000000000005', owner: { id: '0190a8b2-0000-7000-8000-000000000005', name: 'Omar', email: 'o@example.com' },
  };
  for (const c of [base, filled, { ...base, owner: null, company: null }]) t.same(JSON.parse(serialize(Contact)(c)), c);
});
