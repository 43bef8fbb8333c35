import Fastify from 'fastify';
import pg from 'pg';

// The bare baseline the performance targets are ratios of (DESIGN.md): Fastify + pg with a named
// prepared statement doing the same SELECT as GET /v1/companies/:id, and nothing else.
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const app = Fastify({ logger: false });
app.get('/companies/:id', async (req, reply) => {
  const { id } = req.params as { id: string };
  const r = await pool.query({ name: 'company_by_id', text: 'SELECT * FROM companies WHERE id = $1 AND deleted_at IS NULL', values: [id] });
  if (r.rowCount === 0) return reply.code(404).send({ code: 'not_found' });
  return r.rows[0];
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.send?.('ready');
