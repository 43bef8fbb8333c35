import t from 'tap';
import { toE164 } from '../../src/platform/http/phone.js';

// Parsed numbers are kept by input and region (phone.ts): a repeated input must get the answer its
// first parse gave, and the region must stay part of the question.

t.test('the same text in two regions: two answers, each the same when asked again', async (t) => {
  const sa = toE164('0501234567', 'SA');
  const ae = toE164('0501234567', 'AE');
  t.same(sa, { ok: '+966501234567' });
  t.same(ae, { ok: '+971501234567' });
  t.same(toE164('0501234567', 'SA'), sa);
  t.same(toE164('0501234567', 'AE'), ae);
});

t.test('an invalid number stays invalid when asked again', async (t) => {
  const first = toE164('12', 'SA');
  t.match(first, { error: /is not a valid phone number/ });
  t.same(toE164('12', 'SA'), first);
  t.same(toE164('+966501234567', 'GB'), { ok: '+966501234567' }, 'a + number whatever the region');
});

t.test('past the bound, numbers are still answered right', async (t) => {
  for (let i = 0; i < 20_050; i++) toE164(`+96650${String(i).padStart(7, '0')}`, 'SA');
  t.same(toE164('0501234567', 'SA'), { ok: '+966501234567' });
  t.same(toE164(`+96650${String(20_049).padStart(7, '0')}`, 'SA'), { ok: `+96650${String(20_049).padStart(7, '0')}` });
});
