import t from 'tap';
import { startTestApp } from '../helpers/app.js';

t.test('health', async (t) => {
  const h = await startTestApp();
  t.teardown(() => h.close());
  const res = await h.request({ method: 'GET', url: '/health' });
  t.equal(res.statusCode, 200);
});
