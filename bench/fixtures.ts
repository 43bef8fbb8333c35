import pg from 'pg';

// What the scenarios draw from: sampled ids and names of the seeded data, a signed-in admin, and
// a cursor 1000 pages deep reached by walking the pages as a client would.

export interface Fixtures {
  contactIds: string[];
  /** each sampled contact's version when sampled: a database measured before has them past 1 */
  contactVersions: Map<string, number>;
  names: string[];
  token: string;
  listPath: string;
  deepCursor: string | undefined;
  deepPage: number;
}

export const LIST_PATH = '/v1/contacts?filter[lifecycleStage][eq]=customer&sort=lastName&limit=50';
const DEEP_PAGE = 1000;

export async function sampleData(url: string): Promise<{ ids: string[]; versions: Map<string, number>; names: string[] }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const sampled = (await c.query<{ id: string; version: number }>('SELECT id, version FROM contacts ORDER BY md5(id::text) LIMIT 20000')).rows;
    const ids = sampled.map((r) => r.id);
    const versions = new Map(sampled.map((r) => [r.id, r.version]));
    const names = (await c.query<{ name: string }>(
      "SELECT first_name || ' ' || last_name AS name FROM contacts ORDER BY md5(id::text) DESC LIMIT 500",
    )).rows.map((r) => r.name);
    return { ids, versions, names };
  } finally {
    await c.end();
  }
}

async function signIn(base: string, email: string, password: string): Promise<string> {
  const r = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (r.status !== 200) throw new Error(`sign-in as ${email} answered ${r.status}: ${await r.text()}`);
  return ((await r.json()) as { accessToken: string }).accessToken;
}

/** Follows nextCursor from page 1 to page 1000 (or the last page there is), like a client paging through. */
async function walk(base: string, token: string): Promise<{ cursor: string | undefined; page: number }> {
  let cursor: string | undefined;
  let page = 1;
  while (page < DEEP_PAGE) {
    const r = await fetch(`${base}${LIST_PATH}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    const next = ((await r.json()) as { nextCursor: string | null }).nextCursor;
    if (!next) break;
    cursor = next;
    page++;
  }
  return { cursor, page };
}

export async function prepareFixtures(
  { ids, versions, names }: { ids: string[]; versions: Map<string, number>; names: string[] }, base: string, login: { email: string; password: string },
  o: { walk: boolean } = { walk: true },
): Promise<Fixtures> {
  const token = await signIn(base, login.email, login.password);
  const deep = o.walk ? await walk(base, token) : { cursor: undefined, page: 1 };
  return { contactIds: ids, contactVersions: versions, names, token, listPath: LIST_PATH, deepCursor: deep.cursor, deepPage: deep.page };
}
