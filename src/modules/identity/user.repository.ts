import { type SQL, and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { sqlArray } from '../../platform/db/execute.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { teamMembers, teams, users } from './identity.table.js';

export type UserRow = typeof users.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;

export const userCollection: CollectionSpec = {
  id: { expr: users.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: 'createdAt',
  fields: {
    id: { expr: users.id, type: 'uuid', nullable: false, sortable: true },
    email: { expr: users.email, type: 'string', nullable: false, sortable: true },
    name: { expr: users.name, type: 'string', nullable: false, sortable: true },
    role: { expr: users.role, type: 'string', nullable: false },
    active: { expr: users.active, type: 'boolean', nullable: false },
    createdAt: { expr: users.createdAt, type: 'datetime', nullable: false, sortable: true },
    lastLoginAt: { expr: users.lastLoginAt, type: 'datetime', nullable: true },
  },
};

export const teamCollection: CollectionSpec = {
  id: { expr: teams.id, type: 'uuid', nullable: false, sortable: true },
  defaultSort: 'name',
  fields: {
    id: { expr: teams.id, type: 'uuid', nullable: false, sortable: true },
    name: { expr: teams.name, type: 'string', nullable: false, sortable: true },
    createdAt: { expr: teams.createdAt, type: 'datetime', nullable: false, sortable: true },
  },
};

export async function countUsers(db: Executor): Promise<number> {
  const r = await db.select({ n: sql<number>`count(*)::int` }).from(users);
  return Number(r[0]?.n ?? 0);
}

/** Name and email of users, for embedding as `owner` in any record: visible to every signed-in role. */
export async function userSummaries(db: Executor, ids: readonly string[]): Promise<{ id: string; name: string; email: string }[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  return db.select({ id: users.id, name: users.name, email: users.email }).from(users).where(inArray(users.id, unique));
}

/** id and role of the active users among `ids` (ticket round-robin picks among them). */
export async function activeUserRoles(db: Executor, ids: readonly string[]): Promise<{ id: string; role: string }[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  return db.select({ id: users.id, role: users.role }).from(users).where(and(inArray(users.id, unique), eq(users.active, true)));
}

export async function findUser(db: Executor, id: string): Promise<UserRow | undefined> {
  return (await db.select().from(users).where(eq(users.id, id)).limit(1))[0];
}

export async function lockUser(tx: Executor, id: string): Promise<UserRow | undefined> {
  return (await tx.select().from(users).where(eq(users.id, id)).for('update'))[0];
}

export async function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  return (await db.select().from(users).where(eq(users.email, email)).limit(1))[0];
}

export async function listUsers(db: Executor, list: CompiledList): Promise<UserRow[]> {
  return db.select().from(users).where(list.where).orderBy(...list.orderBy).limit(list.fetch);
}

export async function insertUser(tx: Executor, values: typeof users.$inferInsert): Promise<UserRow> {
  return (await tx.insert(users).values(values).returning())[0] as UserRow;
}

export async function updateUser(tx: Executor, id: string, values: Partial<typeof users.$inferInsert>): Promise<UserRow> {
  const rows = await tx
    .update(users)
    .set({ ...values, version: sql`${users.version} + 1`, updatedAt: sql`now()` })
    .where(eq(users.id, id))
    .returning();
  return rows[0] as UserRow;
}

export async function touchLogin(db: Executor, id: string): Promise<void> {
  await db.update(users).set({ lastLoginAt: sql`now()` }).where(eq(users.id, id));
}

/** Team ids per user, in joining order (the first is the default team of what a user creates). */
export async function teamIdsOf(db: Executor, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return out;
  const rows = await db
    .select({ userId: teamMembers.userId, teamId: teamMembers.teamId })
    .from(teamMembers)
    .innerJoin(teams, and(eq(teams.id, teamMembers.teamId), isNull(teams.deletedAt)))
    .where(inArray(teamMembers.userId, [...userIds]))
    .orderBy(asc(teamMembers.joinedAt), asc(teamMembers.teamId));
  for (const r of rows) out.get(r.userId)?.push(r.teamId);
  return out;
}

export async function memberIdsOf(db: Executor, teamIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(teamIds.map((id) => [id, []]));
  if (teamIds.length === 0) return out;
  const rows = await db
    .select({ userId: teamMembers.userId, teamId: teamMembers.teamId })
    .from(teamMembers)
    .where(inArray(teamMembers.teamId, [...teamIds]))
    .orderBy(asc(teamMembers.joinedAt));
  for (const r of rows) out.get(r.teamId)?.push(r.userId);
  return out;
}

/** Makes the user's memberships exactly `teamIds`, keeping the joining time of those that stay. */
export async function setMemberships(tx: Executor, userId: string, teamIds: readonly string[]): Promise<void> {
  const keep = [...new Set(teamIds)];
  await tx
    .delete(teamMembers)
    .where(and(eq(teamMembers.userId, userId), keep.length ? sql`${teamMembers.teamId} <> ALL(${sqlArray(keep, 'uuid')})` : undefined));
  for (const teamId of keep) {
    await tx.insert(teamMembers).values({ teamId, userId }).onConflictDoNothing();
  }
}

export async function addMember(tx: Executor, teamId: string, userId: string): Promise<void> {
  await tx.insert(teamMembers).values({ teamId, userId }).onConflictDoNothing();
}

export async function removeMember(tx: Executor, teamId: string, userId: string): Promise<number> {
  const r = await tx.delete(teamMembers).where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId))).returning();
  return r.length;
}

export async function liveTeamIds(db: Executor, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.select({ id: teams.id }).from(teams).where(and(inArray(teams.id, [...ids]), isNull(teams.deletedAt)));
  return rows.map((r) => r.id);
}

export async function findTeam(db: Executor, id: string): Promise<TeamRow | undefined> {
  return (await db.select().from(teams).where(eq(teams.id, id)).limit(1))[0];
}

export async function lockTeam(tx: Executor, id: string): Promise<TeamRow | undefined> {
  return (await tx.select().from(teams).where(eq(teams.id, id)).for('update'))[0];
}

export async function listTeams(db: Executor, list: CompiledList, where?: SQL): Promise<TeamRow[]> {
  return db.select().from(teams).where(and(list.where, isNull(teams.deletedAt), where)).orderBy(...list.orderBy).limit(list.fetch);
}

export async function insertTeam(tx: Executor, name: string): Promise<TeamRow> {
  return (await tx.insert(teams).values({ name }).returning())[0] as TeamRow;
}

export async function updateTeam(tx: Executor, id: string, values: Partial<typeof teams.$inferInsert>): Promise<TeamRow> {
  const rows = await tx
    .update(teams)
    .set({ ...values, version: sql`${teams.version} + 1`, updatedAt: sql`now()` })
    .where(eq(teams.id, id))
    .returning();
  return rows[0] as TeamRow;
}
