import t from 'tap';
import { serializeError } from '../../src/platform/logger.js';

// A failed statement's values (drizzle's "params:" line, pg's "Key (…)=(…)" detail) are personal
// data; the logged error keeps the statement and the error class only.

t.test('drizzle query parameters are cut out of message and stack', async (t) => {
  const err = new Error('Failed query: insert into "contacts" ("email", "phone") values ($1, $2)\nparams: layla@example.com,+966501234567');
  const out = JSON.stringify(serializeError(err));
  t.notMatch(out, /layla@example\.com/);
  t.notMatch(out, /966501234567/);
  t.match(out, /insert into \\"contacts\\"/);
  t.match(out, /params: \[redacted\]/);
});

t.test('pg key details and causes are scrubbed, the code kept', async (t) => {
  const cause = Object.assign(new Error('duplicate key value violates unique constraint "contacts_email_key"'), {
    code: '23505', detail: 'Key (lower(email))=(omar@example.com) already exists.',
  });
  const err = new Error('Failed query: update "contacts" set "email" = $1\nparams: omar@example.com', { cause });
  const out = serializeError(err);
  const logged = out.cause as { code: string; detail: string };
  t.equal(out.type, 'Error');
  t.equal(logged.code, '23505');
  t.equal(logged.detail, 'Key (lower(email))=([redacted]) already exists.');
  t.notMatch(JSON.stringify(out), /omar@example\.com/);
});

t.test('an error without query values is logged as it is', async (t) => {
  const out = serializeError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
  t.equal(out.message, 'connect ECONNREFUSED 127.0.0.1:5432');
  t.equal(out.code, 'ECONNREFUSED');
  t.match(out.stack, /^Error: connect ECONNREFUSED/);
});
