import t from 'tap';
import { currencyCode, decimalString, fitsCurrency, formatMoney, minorUnits } from '../../src/platform/http/money.js';
import { applyPatch, mergePatch } from '../../src/platform/http/merge-patch.js';

// Money is a decimal string with exactly the currency's minor units (API.md §1); PATCH bodies are
// RFC 7396 merge patches (API.md §3). Both are pure functions, tested here without a server.

t.test('minorUnits follows ISO 4217: KWD 3, JPY 0, SAR 2', async (t) => {
  t.equal(minorUnits('KWD'), 3);
  t.equal(minorUnits('BHD'), 3);
  t.equal(minorUnits('JPY'), 0);
  t.equal(minorUnits('SAR'), 2);
  t.equal(minorUnits('EUR'), 2);
});

t.test('formatMoney renders numeric(19,4) with exactly the minor units of the currency', async (t) => {
  // what Postgres hands back for numeric(19,4)
  t.equal(formatMoney('1234.5000', 'KWD'), '1234.500');
  t.equal(formatMoney('1234.5670', 'KWD'), '1234.567');
  t.equal(formatMoney('1234.0000', 'JPY'), '1234');
  t.equal(formatMoney('1234.5000', 'SAR'), '1234.50');
  t.equal(formatMoney('-0.0500', 'SAR'), '-0.05', 'negative amounts keep their sign');
  // values without (enough) decimals are padded, never shortened to a float's idea of them
  t.equal(formatMoney('7', 'KWD'), '7.000');
  t.equal(formatMoney('7.1', 'SAR'), '7.10');
  t.equal(formatMoney('999999999999999.9900', 'SAR'), '999999999999999.99', 'no precision lost to floats');
  t.equal(formatMoney('12.3400', null), '12.34', 'without a currency, two decimals');
  t.equal(formatMoney(null, 'SAR'), null);
});

t.test('fitsCurrency refuses more decimals than the currency has', async (t) => {
  t.ok(fitsCurrency('1.234', 'KWD'));
  t.notOk(fitsCurrency('1.2345', 'KWD'));
  t.ok(fitsCurrency('1.2340', 'KWD'), 'trailing zeros are not precision');
  t.ok(fitsCurrency('100', 'JPY'));
  t.ok(fitsCurrency('100.00', 'JPY'));
  t.notOk(fitsCurrency('100.5', 'JPY'));
  t.ok(fitsCurrency('10.25', 'SAR'));
  t.notOk(fitsCurrency('10.255', 'SAR'));
  t.ok(fitsCurrency('-10.25', 'SAR'));
});

t.test('currencyCode and decimalString validate the wire format', async (t) => {
  t.ok(currencyCode.safeParse('SAR').success);
  t.notOk(currencyCode.safeParse('sar').success, 'upper case only');
  t.notOk(currencyCode.safeParse('ABC').success, 'must be a real ISO 4217 code');
  t.ok(decimalString.safeParse('1234.50').success);
  t.ok(decimalString.safeParse('-0.0001').success);
  for (const bad of ['1e3', '1,5', '12.34567', '.5', '1.', '1234567890123456']) {
    t.notOk(decimalString.safeParse(bad).success, bad);
  }
});

// The examples of RFC 7396 Appendix A, verbatim: [target, patch, result].
const RFC7396: [unknown, unknown, unknown][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

t.test('mergePatch passes every example of RFC 7396 Appendix A', async (t) => {
  for (const [target, patch, result] of RFC7396) {
    const before = JSON.stringify(target);
    t.same(mergePatch(target, patch), result, `${before} + ${JSON.stringify(patch)}`);
    t.equal(JSON.stringify(target), before, 'the target is not changed');
  }
});

t.test('mergePatch: a patch shares no objects with its result', async (t) => {
  const patch = { address: { city: 'Riyadh' } };
  const out = mergePatch({}, patch) as { address: { city: string } };
  out.address.city = 'Jeddah';
  t.equal(patch.address.city, 'Riyadh');
});

t.test('applyPatch: absent fields stay, null clears, object fields merge, the rest replace', async (t) => {
  const current = {
    name: 'Acme',
    industry: 'retail',
    tags: ['a', 'b'],
    address: { city: 'Riyadh', country: 'SA', line1: 'King Fahd Rd' },
    custom: { tier: 'gold', score: 3 },
  };
  const changes = applyPatch(current, {
    industry: null,
    tags: ['c'],
    address: { city: 'Jeddah', line1: null },
    custom: { score: 4 },
  }, ['address', 'custom']);
  t.same(changes, {
    industry: null,
    tags: ['c'],
    address: { city: 'Jeddah', country: 'SA' },
    custom: { tier: 'gold', score: 4 },
  });
  t.notOk('name' in changes, 'a field absent from the patch is not touched');
  t.equal(current.address.line1, 'King Fahd Rd', 'the current record is not changed');
});

t.test('applyPatch: null on an object field clears the whole object', async (t) => {
  t.same(applyPatch({ address: { city: 'Riyadh' } }, { address: null }, ['address']), { address: null });
});

t.test('applyPatch: a field that is not an object field is replaced, not merged', async (t) => {
  // `externalIds` left out of objectFields: the patch value replaces it
  t.same(applyPatch({ externalIds: { a: '1' } }, { externalIds: { b: '2' } }, []), { externalIds: { b: '2' } });
});

t.test('applyPatch: a patch that changes nothing reports no changes', async (t) => {
  const current = { name: 'Acme', industry: null, address: { city: 'Riyadh' }, tags: ['x'] };
  t.same(applyPatch(current, { name: 'Acme', industry: null, address: { city: 'Riyadh' }, tags: ['x'] }, ['address']), {});
  t.same(applyPatch(current, { address: { country: null } }, ['address']), {}, 'removing a key that is not there');
  t.same(applyPatch(current, { name: undefined }, []), {}, 'undefined means absent');
  // clearing a field that was never set: null and missing are the same
  t.same(applyPatch({ phone: undefined } as Record<string, unknown>, { phone: null }, []), {});
});
