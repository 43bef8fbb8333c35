import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { buildSchema } from 'graphql';
import { sql } from 'drizzle-orm';
import type { InjectOptions } from 'fastify';
import { queryRows } from '../../src/platform/db/execute.js';
import { schemaPath } from '../../src/platform/graphql/index.js';
import { ROLES, type Role } from '../../src/platform/auth/actor.js';
import { type TestUser, startTestApp } from '../helpers/app.js';

// The role table of API.md §4 for every route of the companies and identity modules (and the audit
// log), over REST and GraphQL, generated from the table below: each role gets the success status or
// 403, and no token gets 401. A refused call changes nothing: no audit row under its request id, and
// the record it aimed at reads the same afterwards. A permitted write leaves exactly one audit row.

const h = await startTestApp();
t.teardown(() => h.close());
const root = h.user('admin');

const ALL = ROLES;
const WRITERS: readonly Role[] = ['admin', 'manager', 'sales', 'support', 'marketing'];
const NOT_SALES: readonly Role[] = ['admin', 'manager', 'support', 'marketing'];
const MANAGERIAL: readonly Role[] = ['admin', 'manager'];
const ADMIN: readonly Role[] = ['admin'];

const unique = () => randomUUID().slice(0, 8);

async function must(o: InjectOptions, status: number) {
  const res = await h.request({ ...o, headers: { ...root.auth, ...o.headers } });
  if (res.statusCode !== status) throw new Error(`${o.method} ${o.url} → ${res.statusCode}: ${res.body}`);
  return res.body ? res.json() : undefined;
}

// Real users, one per role, so /v1/me has a record to answer with; every call below signs as them.
const actors = {} as Record<Role, TestUser>;
for (const role of ROLES) {
  const u = await must({ method: 'POST', url: '/v1/users', payload: { email: `${role}-${unique()}@matrix.example`, password: 'matrix passphrase', name: role, role } }, 201);
  actors[role] = h.user(role, { id: u.id });
}

// Targets. Records a refused call aims at are shared; a permitted write gets a fresh one.
const newCompany = async (o: Record<string, unknown> = {}) => (await must({ method: 'POST', url: '/v1/companies', payload: { name: `Matrix ${unique()}`, ...o } }, 201)).id as string;
const deletedCompany = async () => {
  const id = await newCompany();
  await must({ method: 'DELETE', url: `/v1/companies/${id}` }, 204);
  return id;
};
const newUser = async () => (await must({ method: 'POST', url: '/v1/users', payload: { email: `t-${unique()}@matrix.example`, password: 'matrix passphrase', name: 'Target', role: 'viewer' } }, 201)).id as string;
const newTeam = async () => (await must({ method: 'POST', url: '/v1/teams', payload: { name: `Matrix team ${unique()}` } }, 201)).id as string;
const newKey = async () => (await must({ method: 'POST', url: '/v1/api-keys', payload: { name: 'matrix', role: 'viewer' } }, 201)).id as string;
const addMember = (team: string, user: string) => must({ method: 'PUT', url: `/v1/teams/${team}/members/${user}` }, 200);

const shared = {
  company: await newCompany(),
  deleted: await deletedCompany(),
  user: await newUser(),
  outsider: await newUser(),
  team: await newTeam(),
  key: await newKey(),
};
await addMember(shared.team, shared.user);

const read = (url: string) => () => must({ method: 'GET', url }, 200);
const companyState = (id: string) => () => must({ method: 'GET', url: `/v1/companies/${id}?includeDeleted=true` }, 200);
const apiKeyState = (id: string) => async () => (await must({ method: 'GET', url: '/v1/api-keys?limit=200' }, 200)).data.find((k: { id: string }) => k.id === id);
const countWhere = (table: 'companies' | 'users' | 'teams' | 'api_keys', column: string, value: string) => async () =>
  (await queryRows<{ n: number }>(h.db.database.db, sql`SELECT count(*)::int AS n FROM ${sql.raw(table)} WHERE ${sql.raw(column)} = ${value}`)).rows[0]?.n;

interface Built {
  request: InjectOptions;
  /** reads what the call would change, to prove a refused call changed nothing */
  state?: () => Promise<unknown>;
}

interface Case {
  name: string;
  allowed: readonly Role[];
  /** status of a permitted REST call; GraphQL answers 200 */
  status?: number;
  /** a permitted call writes exactly one audit row; a number: that many (a merge audits each record it changes) */
  writes: boolean | number;
  /** what a refusal of these roles must say besides `forbidden` (a field-level refusal names the field) */
  refusal?: { roles: readonly Role[]; expect: Record<string, unknown> };
  build(caller: TestUser, permitted: boolean): Promise<Built>;
}

const rest = (method: InjectOptions['method'], url: string, payload?: object): InjectOptions => ({ method, url, ...(payload ? { payload } : {}) });
const gql = (query: string, variables: Record<string, unknown> = {}): InjectOptions => ({ method: 'POST', url: '/graphql', payload: { query, variables } });

/** REST: every route of companies, identity and the audit log. */
const restCases: Case[] = [
  { name: 'GET /v1/companies', allowed: ALL, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/companies') }) },
  { name: 'GET /v1/companies?includeDeleted=true', allowed: MANAGERIAL, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/companies?includeDeleted=true') }) },
  { name: 'GET /v1/companies/count', allowed: ALL, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/companies/count') }) },
  { name: 'GET /v1/companies/:id', allowed: ALL, status: 200, writes: false, build: async () => ({ request: rest('GET', `/v1/companies/${shared.company}`) }) },
  { name: 'GET /v1/companies/:id/timeline', allowed: ALL, status: 200, writes: false, build: async () => ({ request: rest('GET', `/v1/companies/${shared.company}/timeline`) }) },
  { name: 'GET /v1/companies/export', allowed: ALL, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/companies/export?format=ndjson') }) },
  {
    name: 'POST /v1/companies', allowed: WRITERS, status: 201, writes: true,
    build: async () => {
      const name = `Created ${unique()}`;
      return { request: rest('POST', '/v1/companies', { name }), state: countWhere('companies', 'name', name) };
    },
  },
  {
    name: 'POST /v1/companies with ownerId of someone else', allowed: MANAGERIAL, status: 201, writes: true, refusal: { roles: ['sales', 'support', 'marketing'], expect: { errors: [{ path: 'ownerId' }] } },
    build: async (caller) => {
      const name = `Assigned ${unique()}`;
      const other = caller.id === actors.admin.id ? actors.manager.id : actors.admin.id;
      return { request: rest('POST', '/v1/companies', { name, ownerId: other }), state: countWhere('companies', 'name', name) };
    },
  },
  {
    name: 'POST /v1/companies/batch', allowed: WRITERS, status: 200, writes: true,
    build: async () => {
      const name = `Batched ${unique()}`;
      return { request: rest('POST', '/v1/companies/batch', { operation: 'create', records: [{ name }] }), state: countWhere('companies', 'name', name) };
    },
  },
  {
    name: 'PATCH /v1/companies/:id (own)', allowed: WRITERS, status: 200, writes: true,
    build: async (caller, permitted) => {
      const id = permitted ? await newCompany({ ownerId: caller.id }) : shared.company;
      return { request: rest('PATCH', `/v1/companies/${id}`, { industry: `industry ${unique()}` }), state: companyState(id) };
    },
  },
  {
    name: 'PATCH /v1/companies/:id (someone else\'s)', allowed: NOT_SALES, status: 200, writes: true,
    build: async () => {
      const id = await newCompany({ ownerId: actors.viewer.id });
      return { request: rest('PATCH', `/v1/companies/${id}`, { industry: 'reassigned' }), state: companyState(id) };
    },
  },
  {
    name: 'DELETE /v1/companies/:id (own)', allowed: WRITERS, status: 204, writes: true,
    build: async (caller, permitted) => {
      const id = permitted ? await newCompany({ ownerId: caller.id }) : shared.company;
      return { request: rest('DELETE', `/v1/companies/${id}`), state: companyState(id) };
    },
  },
  {
    name: 'DELETE /v1/companies/:id (someone else\'s)', allowed: NOT_SALES, status: 204, writes: true,
    build: async () => {
      const id = await newCompany({ ownerId: actors.viewer.id });
      return { request: rest('DELETE', `/v1/companies/${id}`), state: companyState(id) };
    },
  },
  {
    name: 'POST /v1/companies/:id/restore', allowed: MANAGERIAL, status: 200, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await deletedCompany() : shared.deleted;
      return { request: rest('POST', `/v1/companies/${id}/restore`), state: companyState(id) };
    },
  },
  { name: 'GET /v1/companies/duplicates', allowed: ALL, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/companies/duplicates') }) },
  {
    // the duplicate's deletion and the merge itself: two audit rows (nothing to fill, no links)
    name: 'POST /v1/companies/merge', allowed: WRITERS, status: 200, writes: 2,
    build: async (caller, permitted) => {
      const ids = permitted ? [await newCompany({ ownerId: caller.id }), await newCompany({ ownerId: caller.id })] : [shared.company, await newCompany()];
      return { request: rest('POST', '/v1/companies/merge', { primaryId: ids[0], duplicateIds: [ids[1]] }), state: companyState(ids[1] as string) };
    },
  },
  { name: 'GET /v1/me', allowed: ALL, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/me') }) },
  { name: 'GET /v1/users', allowed: MANAGERIAL, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/users') }) },
  { name: 'GET /v1/users/:id', allowed: MANAGERIAL, status: 200, writes: false, build: async () => ({ request: rest('GET', `/v1/users/${shared.user}`) }) },
  {
    name: 'POST /v1/users', allowed: ADMIN, status: 201, writes: true,
    build: async () => {
      const email = `new-${unique()}@matrix.example`;
      return { request: rest('POST', '/v1/users', { email, password: 'matrix passphrase', name: 'New', role: 'viewer' }), state: countWhere('users', 'email', email) };
    },
  },
  {
    name: 'PATCH /v1/users/:id', allowed: ADMIN, status: 200, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newUser() : shared.user;
      return { request: rest('PATCH', `/v1/users/${id}`, { role: 'admin', name: 'Promoted' }), state: read(`/v1/users/${id}`) };
    },
  },
  {
    name: 'DELETE /v1/users/:id', allowed: ADMIN, status: 204, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newUser() : shared.user;
      return { request: rest('DELETE', `/v1/users/${id}`), state: read(`/v1/users/${id}`) };
    },
  },
  { name: 'GET /v1/teams', allowed: MANAGERIAL, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/teams') }) },
  { name: 'GET /v1/teams/:id', allowed: MANAGERIAL, status: 200, writes: false, build: async () => ({ request: rest('GET', `/v1/teams/${shared.team}`) }) },
  {
    name: 'POST /v1/teams', allowed: ADMIN, status: 201, writes: true,
    build: async () => {
      const name = `New team ${unique()}`;
      return { request: rest('POST', '/v1/teams', { name }), state: countWhere('teams', 'name', name) };
    },
  },
  {
    name: 'PATCH /v1/teams/:id', allowed: ADMIN, status: 200, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newTeam() : shared.team;
      return { request: rest('PATCH', `/v1/teams/${id}`, { name: `Renamed ${unique()}` }), state: read(`/v1/teams/${id}`) };
    },
  },
  {
    name: 'DELETE /v1/teams/:id', allowed: ADMIN, status: 204, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newTeam() : shared.team;
      return { request: rest('DELETE', `/v1/teams/${id}`), state: read(`/v1/teams/${id}`) };
    },
  },
  {
    name: 'PUT /v1/teams/:id/members/:userId', allowed: ADMIN, status: 200, writes: true,
    build: async (_c, permitted) => {
      const team = permitted ? await newTeam() : shared.team;
      return { request: rest('PUT', `/v1/teams/${team}/members/${shared.outsider}`), state: read(`/v1/teams/${team}`) };
    },
  },
  {
    name: 'DELETE /v1/teams/:id/members/:userId', allowed: ADMIN, status: 200, writes: true,
    build: async (_c, permitted) => {
      const team = permitted ? await newTeam() : shared.team;
      if (permitted) await addMember(team, shared.user);
      return { request: rest('DELETE', `/v1/teams/${team}/members/${shared.user}`), state: read(`/v1/teams/${team}`) };
    },
  },
  {
    name: 'POST /v1/api-keys', allowed: ADMIN, status: 201, writes: true,
    build: async () => {
      const name = `key ${unique()}`;
      return { request: rest('POST', '/v1/api-keys', { name, role: 'admin' }), state: countWhere('api_keys', 'name', name) };
    },
  },
  { name: 'GET /v1/api-keys', allowed: ADMIN, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/api-keys') }) },
  {
    name: 'DELETE /v1/api-keys/:id', allowed: ADMIN, status: 204, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newKey() : shared.key;
      return { request: rest('DELETE', `/v1/api-keys/${id}`), state: apiKeyState(id) };
    },
  },
  { name: 'GET /v1/audit-logs', allowed: ADMIN, status: 200, writes: false, build: async () => ({ request: rest('GET', '/v1/audit-logs?limit=1') }) },
  { name: 'POST /v1/audit-logs/verify', allowed: ADMIN, status: 200, writes: false, build: async () => ({ request: rest('POST', '/v1/audit-logs/verify') }) },
];

/** GraphQL: the same operations through the same services. */
const gqlCases: Case[] = [
  { name: 'companies', allowed: ALL, writes: false, build: async () => ({ request: gql('{ companies(first: 1) { edges { node { id } } } }') }) },
  { name: 'companies(includeDeleted: true)', allowed: MANAGERIAL, writes: false, build: async () => ({ request: gql('{ companies(first: 1, includeDeleted: true) { edges { node { id } } } }') }) },
  { name: 'companiesCount', allowed: ALL, writes: false, build: async () => ({ request: gql('{ companiesCount }') }) },
  { name: 'company', allowed: ALL, writes: false, build: async () => ({ request: gql('query($id: ID!) { company(id: $id) { id } }', { id: shared.company }) }) },
  { name: 'companyTimeline', allowed: ALL, writes: false, build: async () => ({ request: gql('query($id: ID!) { companyTimeline(id: $id) { edges { cursor } } }', { id: shared.company }) }) },
  {
    name: 'createCompany', allowed: WRITERS, writes: true,
    build: async () => {
      const name = `GQL created ${unique()}`;
      return { request: gql('mutation($n: String!) { createCompany(input: { name: $n }) { id } }', { n: name }), state: countWhere('companies', 'name', name) };
    },
  },
  {
    name: 'createCompany with ownerId of someone else', allowed: MANAGERIAL, writes: true, refusal: { roles: ['sales', 'support', 'marketing'], expect: { errors: [{ path: 'ownerId' }] } },
    build: async (caller) => {
      const name = `GQL assigned ${unique()}`;
      const other = caller.id === actors.admin.id ? actors.manager.id : actors.admin.id;
      return { request: gql('mutation($n: String!, $o: ID) { createCompany(input: { name: $n, ownerId: $o }) { id } }', { n: name, o: other }), state: countWhere('companies', 'name', name) };
    },
  },
  {
    name: 'batchCompanies', allowed: WRITERS, writes: true,
    build: async () => {
      const name = `GQL batched ${unique()}`;
      return { request: gql('mutation($r: [JSON!]!) { batchCompanies(operation: create, records: $r) { status } }', { r: [{ name }] }), state: countWhere('companies', 'name', name) };
    },
  },
  {
    name: 'upsertCompanies', allowed: WRITERS, writes: true,
    build: async () => {
      const domain = `${unique()}.matrix.example`;
      return { request: gql('mutation($r: [JSON!]!) { upsertCompanies(idProperty: "domain", records: $r) { status } }', { r: [{ domain, name: 'Upserted' }] }), state: countWhere('companies', 'domain', domain) };
    },
  },
  {
    name: 'updateCompany (own)', allowed: WRITERS, writes: true,
    build: async (caller, permitted) => {
      const id = permitted ? await newCompany({ ownerId: caller.id }) : shared.company;
      return { request: gql('mutation($id: ID!) { updateCompany(id: $id, input: { industry: "gql" }) { id } }', { id }), state: companyState(id) };
    },
  },
  {
    name: 'updateCompany (someone else\'s)', allowed: NOT_SALES, writes: true,
    build: async () => {
      const id = await newCompany({ ownerId: actors.viewer.id });
      return { request: gql('mutation($id: ID!) { updateCompany(id: $id, input: { industry: "gql" }) { id } }', { id }), state: companyState(id) };
    },
  },
  {
    name: 'deleteCompany (own)', allowed: WRITERS, writes: true,
    build: async (caller, permitted) => {
      const id = permitted ? await newCompany({ ownerId: caller.id }) : shared.company;
      return { request: gql('mutation($id: ID!) { deleteCompany(id: $id) }', { id }), state: companyState(id) };
    },
  },
  {
    name: 'restoreCompany', allowed: MANAGERIAL, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await deletedCompany() : shared.deleted;
      return { request: gql('mutation($id: ID!) { restoreCompany(id: $id) { id } }', { id }), state: companyState(id) };
    },
  },
  { name: 'companyDuplicates', allowed: ALL, writes: false, build: async () => ({ request: gql('{ companyDuplicates(first: 1) { edges { node { companyIds } } } }') }) },
  {
    name: 'mergeCompanies', allowed: WRITERS, writes: 2,
    build: async (caller, permitted) => {
      const ids = permitted ? [await newCompany({ ownerId: caller.id }), await newCompany({ ownerId: caller.id })] : [shared.company, await newCompany()];
      return { request: gql('mutation($p: ID!, $d: [ID!]!) { mergeCompanies(primaryId: $p, duplicateIds: $d) { id } }', { p: ids[0], d: [ids[1]] }), state: companyState(ids[1] as string) };
    },
  },
  { name: 'me', allowed: ALL, writes: false, build: async () => ({ request: gql('{ me { id } }') }) },
  { name: 'users', allowed: MANAGERIAL, writes: false, build: async () => ({ request: gql('{ users(first: 1) { edges { node { id } } } }') }) },
  { name: 'user', allowed: MANAGERIAL, writes: false, build: async () => ({ request: gql('query($id: ID!) { user(id: $id) { id } }', { id: shared.user }) }) },
  { name: 'teams', allowed: MANAGERIAL, writes: false, build: async () => ({ request: gql('{ teams(first: 1) { edges { node { id } } } }') }) },
  { name: 'team', allowed: MANAGERIAL, writes: false, build: async () => ({ request: gql('query($id: ID!) { team(id: $id) { id } }', { id: shared.team }) }) },
  { name: 'apiKeys', allowed: ADMIN, writes: false, build: async () => ({ request: gql('{ apiKeys(first: 1) { nodes { id } } }') }) },
  {
    name: 'createUser', allowed: ADMIN, writes: true,
    build: async () => {
      const email = `gql-${unique()}@matrix.example`;
      return { request: gql('mutation($e: String!) { createUser(input: { email: $e, password: "matrix passphrase", name: "G", role: viewer }) { id } }', { e: email }), state: countWhere('users', 'email', email) };
    },
  },
  {
    name: 'updateUser', allowed: ADMIN, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newUser() : shared.user;
      return { request: gql('mutation($id: ID!) { updateUser(id: $id, input: { role: admin }) { id } }', { id }), state: read(`/v1/users/${id}`) };
    },
  },
  {
    name: 'deactivateUser', allowed: ADMIN, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newUser() : shared.user;
      return { request: gql('mutation($id: ID!) { deactivateUser(id: $id) { id } }', { id }), state: read(`/v1/users/${id}`) };
    },
  },
  {
    name: 'createTeam', allowed: ADMIN, writes: true,
    build: async () => {
      const name = `GQL team ${unique()}`;
      return { request: gql('mutation($n: String!) { createTeam(input: { name: $n }) { id } }', { n: name }), state: countWhere('teams', 'name', name) };
    },
  },
  {
    name: 'updateTeam', allowed: ADMIN, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newTeam() : shared.team;
      return { request: gql('mutation($id: ID!, $n: String!) { updateTeam(id: $id, input: { name: $n }) { id } }', { id, n: `GQL renamed ${unique()}` }), state: read(`/v1/teams/${id}`) };
    },
  },
  {
    name: 'deleteTeam', allowed: ADMIN, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newTeam() : shared.team;
      return { request: gql('mutation($id: ID!) { deleteTeam(id: $id) }', { id }), state: read(`/v1/teams/${id}`) };
    },
  },
  {
    name: 'addTeamMember', allowed: ADMIN, writes: true,
    build: async (_c, permitted) => {
      const team = permitted ? await newTeam() : shared.team;
      return { request: gql('mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }', { t: team, u: shared.outsider }), state: read(`/v1/teams/${team}`) };
    },
  },
  {
    name: 'removeTeamMember', allowed: ADMIN, writes: true,
    build: async (_c, permitted) => {
      const team = permitted ? await newTeam() : shared.team;
      if (permitted) await addMember(team, shared.user);
      return { request: gql('mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }', { t: team, u: shared.user }), state: read(`/v1/teams/${team}`) };
    },
  },
  {
    name: 'createApiKey', allowed: ADMIN, writes: true,
    build: async () => {
      const name = `gql key ${unique()}`;
      return { request: gql('mutation($n: String!) { createApiKey(input: { name: $n, role: admin }) { id } }', { n: name }), state: countWhere('api_keys', 'name', name) };
    },
  },
  {
    name: 'revokeApiKey', allowed: ADMIN, writes: true,
    build: async (_c, permitted) => {
      const id = permitted ? await newKey() : shared.key;
      return { request: gql('mutation($id: ID!) { revokeApiKey(id: $id) }', { id }), state: apiKeyState(id) };
    },
  },
];

const auditRows = async (requestId: string) =>
  (await queryRows<{ n: number }>(h.db.database.db, sql`SELECT count(*)::int AS n FROM audit_logs WHERE request_id = ${requestId}`)).rows[0]?.n;

async function call(built: Built, caller: TestUser | undefined) {
  const requestId = `matrix-${randomUUID()}`;
  const o = built.request;
  const res = await h.request({ ...o, headers: { ...(caller ? caller.auth : {}), 'x-request-id': requestId } });
  return { res, audit: await auditRows(requestId) };
}

async function cell(t: Test, c: Case, role: Role, graphql: boolean) {
  const caller = actors[role];
  const permitted = c.allowed.includes(role);
  const built = await c.build(caller, permitted);
  const before = !permitted && built.state ? await built.state() : undefined;
  const { res, audit } = await call(built, caller);
  const body = res.body ? res.json() : undefined;
  if (permitted) {
    if (graphql) {
      t.equal(body?.errors, undefined, `${role} may (${body?.errors?.[0]?.message ?? 'ok'})`);
    } else {
      t.equal(res.statusCode, c.status, `${role} may (${res.statusCode === c.status ? 'ok' : res.body})`);
    }
    const rows = typeof c.writes === 'number' ? c.writes : c.writes ? 1 : 0;
    t.equal(audit, rows, `${role}: ${rows ? `${rows} audit row(s)` : 'a read writes no audit row'}`);
    return;
  }
  const problem = graphql ? body?.errors?.[0]?.extensions : body;
  if (!graphql) t.equal(res.statusCode, 403, `${role} is refused`);
  const field = c.refusal?.roles.includes(role) ? c.refusal.expect : {};
  t.match(problem, { code: 'forbidden', status: 403, ...field }, `${role}: forbidden`);
  t.equal(audit, 0, `${role}: no audit row`);
  if (built.state) t.same(await built.state(), before, `${role}: nothing changed`);
}

async function anonymous(t: Test, c: Case, graphql: boolean) {
  const built = await c.build(actors.admin, false);
  const before = built.state ? await built.state() : undefined;
  const { res, audit } = await call(built, undefined);
  // GraphQL answers a nullable root field's error under 200 (data: {field: null}); the code says 401.
  if (!graphql) t.equal(res.statusCode, 401, 'no token: 401');
  t.match(graphql ? res.json().errors?.[0]?.extensions : res.json(), { code: 'unauthenticated', status: 401 }, 'no token: unauthenticated');
  t.equal(audit, 0);
  if (built.state) t.same(await built.state(), before, 'no token: nothing changed');
}

t.test('REST', async (t) => {
  for (const c of restCases) {
    await t.test(c.name, async (t) => {
      for (const role of ROLES) await cell(t, c, role, false);
      await anonymous(t, c, false);
    });
  }
});

t.test('GraphQL', async (t) => {
  for (const c of gqlCases) {
    await t.test(c.name, async (t) => {
      for (const role of ROLES) await cell(t, c, role, true);
      await anonymous(t, c, true);
    });
  }
});

t.test('the table covers every route of the modules it is about', async (t) => {
  // A route added to these modules without a row here fails this test, so the matrix cannot go stale.
  const covered = new Set(restCases.map((c) => c.name.split(' ').slice(0, 2).join(' ').replace(/\?.*$/, '')));
  const spec = (await h.request({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
  const ours = Object.entries(spec.paths)
    .filter(([p]) => /^\/v1\/(companies|me|users|teams|api-keys|audit-logs)(\/|$)/.test(p))
    .flatMap(([p, ops]) => Object.keys(ops)
      .filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m))
      .map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`));
  t.ok(ours.length >= 25, `the spec lists the routes (${ours.length})`);
  for (const op of ours) t.ok(covered.has(op), `${op} is in the matrix`);
});

t.test('the GraphQL table covers every query and mutation of these modules', async (t) => {
  const schema = buildSchema(readFileSync(schemaPath, 'utf8'));
  const fields = [...Object.keys(schema.getQueryType()?.getFields() ?? {}), ...Object.keys(schema.getMutationType()?.getFields() ?? {})]
    // teamPerformance is an analytics figure (its roles are tested in analytics-team.test.ts), not identity
    .filter((f) => /compan|user|team|apikey|^me$/i.test(f) && f !== 'teamPerformance');
  const covered = new Set(gqlCases.map((c) => c.name.split(' ')[0]?.replace(/\(.*$/, '')));
  t.ok(fields.length >= 25, `the schema has the operations (${fields.length})`);
  for (const f of fields) t.ok(covered.has(f), `${f} is in the matrix`);
});
