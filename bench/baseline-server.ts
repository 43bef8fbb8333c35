import Fastify from 'fastify';
import pg from 'pg';

// The bare baseline the performance targets are ratios of (DESIGN.md): Fastify + pg with a named
// prepared statement doing the same SELECT as GET /v1/contacts/:id (contact.repository's
// findContact for an admin: every column, by id, one row), and nothing else.
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const app = Fastify({ logger: false });
app.get('/contacts/:id', async (req, reply) => {
  const { id } = req.params as { id: string };
  const r = await pool.query({ name: 'contact_by_id', text: 'SELECT * FROM contacts WHERE id = $1 LIMIT 1', values: [id] });
  if (r.rowCount === 0 || r.rows[0].deleted_at) return reply.code(404).send({ code: 'not_found' });
  return r.rows[0];
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.send?.('ready');
