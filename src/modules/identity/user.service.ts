import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan } from '../../platform/auth/permissions.js';
import { AppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { parseInput } from '../../platform/errors/field-errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { compileList, toPage, type Page } from '../../platform/http/collection.js';
import type { ParsedListQuery } from '../../platform/http/list-query.js';
import { hashPassword, passwordProblems } from './password.js';
import { type TeamDto, TeamCreate, TeamPatch, type UserDto, UserCreate, UserPatch, toUserDto } from './user.schema.js';
import * as repo from './user.repository.js';
import { revokeAllRefreshTokens } from './token.repository.js';


function versionCheck(current: { version: number }, expected: number | undefined, dto: unknown, what: string) {
  if (expected !== undefined && expected !== current.version) {
    throw new AppError('version_conflict', `The ${what} is at version ${current.version}, not ${expected}`, { extensions: { current: dto } });
  }
}

const toTeamDto = (t: repo.TeamRow, memberIds: string[]): TeamDto => ({
  id: t.id,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
  version: t.version,
  deletedAt: t.deletedAt?.toISOString() ?? null,
  name: t.name,
  memberIds,
});

export function createUserService({ db }: { db: Executor }) {
  async function userDto(ex: Executor, row: repo.UserRow): Promise<UserDto> {
    return toUserDto(row, (await repo.teamIdsOf(ex, [row.id])).get(row.id) ?? []);
  }

  async function checkTeams(ex: Executor, teamIds: readonly string[] | undefined): Promise<void> {
    if (!teamIds?.length) return;
    const live = new Set(await repo.liveTeamIds(ex, teamIds));
    const missing = teamIds.map((id, i) => ({ id, i })).filter((x) => !live.has(x.id));
    if (missing.length) {
      throw new AppError('invalid_reference', 'Some teams do not exist', {
        errors: missing.map((m) => ({ path: `teamIds.${m.i}`, message: 'is not an existing team' })),
      });
    }
  }

  async function audited(tx: Executor, ctx: RequestContext, entity: 'user' | 'team', action: string, id: string, before: unknown, after: unknown) {
    await recordAudit(tx, ctx, { action, entityType: entity, entityId: id, before: before as never, after: after as never });
    const past = { create: 'created', update: 'updated', delete: 'deleted' }[action] ?? action;
    await emit(tx, ctx, { type: `${entity}.${past}`, entityType: entity, entityId: id, before, after });
  }

  /** Creates a user without a permission check: for the first-start bootstrap and for create below. */
  async function createUnchecked(tx: Executor, ctx: RequestContext, raw: unknown): Promise<UserDto> {
    const input = parseInput(UserCreate, raw);
    const problems = passwordProblems(input.password, input.email);
    if (problems.length) throw validationFailed(problems);
    await checkTeams(tx, input.teamIds);
    const row = await repo.insertUser(tx, {
      email: input.email,
      name: input.name,
      role: input.role,
      passwordHash: await hashPassword(input.password),
    });
    await repo.setMemberships(tx, row.id, input.teamIds ?? []);
    const dto = await userDto(tx, row);
    await audited(tx, ctx, 'user', 'create', row.id, null, dto);
    return dto;
  }

  return {
    createUnchecked,
    countUsers: () => repo.countUsers(db),

    /**
     * Active members of live teams (ticket round-robin), ordered by user id; a team that does not exist
     * (or is deleted) is absent from the map. `ex` is the caller's transaction when it holds one.
     */
    async teamMembers(teamIds: readonly string[], ex: Executor = db): Promise<Map<string, { id: string; role: string }[]>> {
      const live = await repo.liveTeamIds(ex, teamIds);
      const members = await repo.memberIdsOf(ex, live);
      const active = new Map((await repo.activeUserRoles(ex, [...members.values()].flat())).map((u) => [u.id, u]));
      return new Map([...members].map(([teamId, ids]) => [
        teamId, ids.flatMap((id) => active.get(id) ?? []).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      ]));
    },

    /** id and role of the active users among `ids` (a ticket's assignee must be one); `ex` as for teamMembers. */
    async activeUsers(ids: readonly string[], ex: Executor = db): Promise<Map<string, { id: string; role: string }>> {
      return new Map((await repo.activeUserRoles(ex, ids)).map((u) => [u.id, u]));
    },

    /** One query for any number of ids; unknown ids are simply absent. For embedding owners. */
    async summaries(ids: readonly (string | null)[]): Promise<Map<string, { id: string; name: string; email: string }>> {
      const rows = await repo.userSummaries(db, ids.filter((x): x is string => typeof x === 'string'));
      return new Map(rows.map((r) => [r.id, r]));
    },

    async create(ctx: RequestContext, raw: unknown): Promise<UserDto> {
      assertCan(ctx.actor, 'users', 'write');
      return inTransaction(db, (tx) => createUnchecked(tx, ctx, raw));
    },

    async get(ctx: RequestContext, id: string): Promise<UserDto> {
      assertCan(ctx.actor, 'users', 'read');
      const row = await repo.findUser(db, id);
      if (!row) throw notFound('User');
      return userDto(db, row);
    },

    /** The caller's own record; any role may read itself. */
    async me(ctx: RequestContext): Promise<UserDto> {
      if (ctx.actor.type !== 'user') throw new AppError('not_found', 'An API key has no user record; GET /v1/me needs a user token');
      const row = await repo.findUser(db, ctx.actor.id);
      if (!row || !row.active) throw notFound('User');
      return userDto(db, row);
    },

    async list(ctx: RequestContext, q: ParsedListQuery): Promise<Page<UserDto>> {
      assertCan(ctx.actor, 'users', 'read');
      const list = compileList(repo.userCollection, q);
      const rows = await repo.listUsers(db, list);
      const teamIds = await repo.teamIdsOf(db, rows.map((r) => r.id));
      return toPage(list, rows, (r) => r, (r) => toUserDto(r, teamIds.get(r.id) ?? []));
    },

    async update(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<UserDto> {
      assertCan(ctx.actor, 'users', 'write');
      const patch = parseInput(UserPatch, raw);
      return inTransaction(db, async (tx) => {
        const current = await repo.lockUser(tx, id);
        if (!current) throw notFound('User');
        const before = await userDto(tx, current);
        versionCheck(current, expectedVersion, before, 'user');
        if (patch.password !== undefined) {
          const problems = passwordProblems(patch.password, patch.email ?? current.email);
          if (problems.length) throw validationFailed(problems);
        }
        await checkTeams(tx, patch.teamIds);
        if (patch.teamIds) await repo.setMemberships(tx, id, patch.teamIds);
        const { password, teamIds: _t, ...fields } = patch;
        const row = await repo.updateUser(tx, id, {
          ...fields,
          ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}),
        });
        // A new password or a deactivation ends every session the user has.
        if (password !== undefined || patch.active === false) await revokeAllRefreshTokens(tx, id);
        const after = await userDto(tx, row);
        await audited(tx, ctx, 'user', 'update', id, before, { ...after, ...(password !== undefined ? { password: '[changed]' } : {}) });
        return after;
      });
    },

    async createTeam(ctx: RequestContext, raw: unknown): Promise<TeamDto> {
      assertCan(ctx.actor, 'teams', 'write');
      const input = parseInput(TeamCreate, raw);
      return inTransaction(db, async (tx) => {
        const dto = toTeamDto(await repo.insertTeam(tx, input.name), []);
        await audited(tx, ctx, 'team', 'create', dto.id, null, dto);
        return dto;
      });
    },

    async getTeam(ctx: RequestContext, id: string): Promise<TeamDto> {
      assertCan(ctx.actor, 'teams', 'read');
      const row = await repo.findTeam(db, id);
      if (!row || row.deletedAt) throw notFound('Team');
      return toTeamDto(row, (await repo.memberIdsOf(db, [id])).get(id) ?? []);
    },

    async listTeams(ctx: RequestContext, q: ParsedListQuery): Promise<Page<TeamDto>> {
      assertCan(ctx.actor, 'teams', 'read');
      const list = compileList(repo.teamCollection, q);
      const rows = await repo.listTeams(db, list);
      const members = await repo.memberIdsOf(db, rows.map((r) => r.id));
      return toPage(list, rows, (r) => r, (r) => toTeamDto(r, members.get(r.id) ?? []));
    },

    async updateTeam(ctx: RequestContext, id: string, raw: unknown, expectedVersion?: number): Promise<TeamDto> {
      assertCan(ctx.actor, 'teams', 'write');
      const patch = parseInput(TeamPatch, raw);
      return inTransaction(db, async (tx) => {
        const current = await repo.lockTeam(tx, id);
        if (!current || current.deletedAt) throw notFound('Team');
        const members = (await repo.memberIdsOf(tx, [id])).get(id) ?? [];
        const before = toTeamDto(current, members);
        versionCheck(current, expectedVersion, before, 'team');
        if (patch.name === undefined || patch.name === current.name) return before;
        const after = toTeamDto(await repo.updateTeam(tx, id, { name: patch.name }), members);
        await audited(tx, ctx, 'team', 'update', id, before, after);
        return after;
      });
    },

    async removeTeam(ctx: RequestContext, id: string): Promise<void> {
      assertCan(ctx.actor, 'teams', 'write');
      await inTransaction(db, async (tx) => {
        const current = await repo.lockTeam(tx, id);
        if (!current || current.deletedAt) throw notFound('Team');
        const before = toTeamDto(current, (await repo.memberIdsOf(tx, [id])).get(id) ?? []);
        const after = toTeamDto(await repo.updateTeam(tx, id, { deletedAt: new Date() }), before.memberIds);
        await audited(tx, ctx, 'team', 'delete', id, before, after);
      });
    },

    async setMembership(ctx: RequestContext, teamId: string, userId: string, member: boolean): Promise<TeamDto> {
      assertCan(ctx.actor, 'teams', 'write');
      return inTransaction(db, async (tx) => {
        const team = await repo.lockTeam(tx, teamId);
        if (!team || team.deletedAt) throw notFound('Team');
        if (!(await repo.findUser(tx, userId))) throw notFound('User');
        const before = toTeamDto(team, (await repo.memberIdsOf(tx, [teamId])).get(teamId) ?? []);
        if (member) await repo.addMember(tx, teamId, userId);
        else await repo.removeMember(tx, teamId, userId);
        const after = toTeamDto(team, (await repo.memberIdsOf(tx, [teamId])).get(teamId) ?? []);
        if (JSON.stringify(before.memberIds) !== JSON.stringify(after.memberIds)) {
          await audited(tx, ctx, 'team', member ? 'add_member' : 'remove_member', teamId, before, after);
        }
        return after;
      });
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
