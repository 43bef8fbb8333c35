import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { ifMatchVersion, setEtag } from '../../platform/http/etag.js';
import { listQuerySchema, toListParams } from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { Uuid } from '../../platform/http/common.schema.js';
import { Team, TeamCreate, TeamList, TeamPatch, User, UserCreate, UserList, UserPatch } from './user.schema.js';
import type { UserService } from './user.service.js';

const Id = z.object({ id: Uuid });
const Membership = z.object({ id: Uuid, userId: Uuid });
const userList = listQuerySchema({ sortable: ['createdAt', 'name', 'email', 'id'], filterable: ['id', 'email', 'name', 'role', 'active', 'createdAt', 'lastLoginAt'] });
const teamList = listQuerySchema({ sortable: ['name', 'createdAt', 'id'], filterable: ['id', 'name', 'createdAt'] });

export const userRoutes: FastifyPluginAsyncZod<{ users: UserService }> = async (app, { users }) => {
  const tags = ['users'];
  app.get('/users', { schema: { tags, operationId: 'listUsers', summary: 'List users (admin, manager)', querystring: userList, response: withProblems({ 200: UserList }) } },
    async (req) => {
      const page = await users.list(contextOf(req), toListParams(req.query));
      return { data: page.items, nextCursor: page.nextCursor };
    });
  app.post('/users', { schema: { tags, operationId: 'createUser', summary: 'Create a user (admin sets the first password)', body: UserCreate, response: withProblems({ 201: User }) } },
    async (req, reply) => {
      const user = await users.create(contextOf(req), req.body);
      setEtag(reply, user);
      return reply.code(201).header('location', `/v1/users/${user.id}`).send(user);
    });
  app.get('/users/:id', { schema: { tags, operationId: 'getUser', summary: 'Read a user', params: Id, response: withProblems({ 200: User }) } },
    async (req, reply) => {
      const user = await users.get(contextOf(req), req.params.id);
      setEtag(reply, user);
      return user;
    });
  app.patch('/users/:id', { schema: { tags, operationId: 'updateUser', summary: 'Change a user; active: false deactivates', params: Id, body: UserPatch, response: withProblems({ 200: User }) } },
    async (req, reply) => {
      const user = await users.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
      setEtag(reply, user);
      return user;
    });
  app.delete('/users/:id', { schema: { tags, operationId: 'deactivateUser', summary: 'Deactivate a user (users are never deleted)', params: Id, response: withProblems({ 204: NoContent }) } },
    async (req, reply) => {
      await users.update(contextOf(req), req.params.id, { active: false });
      return reply.code(204).send(null);
    });
};

export const teamRoutes: FastifyPluginAsyncZod<{ users: UserService }> = async (app, { users }) => {
  const tags = ['teams'];
  app.get('/teams', { schema: { tags, operationId: 'listTeams', summary: 'List teams (admin, manager)', querystring: teamList, response: withProblems({ 200: TeamList }) } },
    async (req) => {
      const page = await users.listTeams(contextOf(req), toListParams(req.query));
      return { data: page.items, nextCursor: page.nextCursor };
    });
  app.post('/teams', { schema: { tags, operationId: 'createTeam', summary: 'Create a team', body: TeamCreate, response: withProblems({ 201: Team }) } },
    async (req, reply) => {
      const team = await users.createTeam(contextOf(req), req.body);
      setEtag(reply, team);
      return reply.code(201).header('location', `/v1/teams/${team.id}`).send(team);
    });
  app.get('/teams/:id', { schema: { tags, operationId: 'getTeam', summary: 'Read a team', params: Id, response: withProblems({ 200: Team }) } },
    async (req, reply) => {
      const team = await users.getTeam(contextOf(req), req.params.id);
      setEtag(reply, team);
      return team;
    });
  app.patch('/teams/:id', { schema: { tags, operationId: 'updateTeam', summary: 'Rename a team', params: Id, body: TeamPatch, response: withProblems({ 200: Team }) } },
    async (req, reply) => {
      const team = await users.updateTeam(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
      setEtag(reply, team);
      return team;
    });
  app.delete('/teams/:id', { schema: { tags, operationId: 'deleteTeam', summary: 'Delete a team (soft)', params: Id, response: withProblems({ 204: NoContent }) } },
    async (req, reply) => {
      await users.removeTeam(contextOf(req), req.params.id);
      return reply.code(204).send(null);
    });
  app.put('/teams/:id/members/:userId', { schema: { tags, operationId: 'addTeamMember', summary: 'Add a user to a team', params: Membership, response: withProblems({ 200: Team }) } },
    async (req) => users.setMembership(contextOf(req), req.params.id, req.params.userId, true));
  app.delete('/teams/:id/members/:userId', { schema: { tags, operationId: 'removeTeamMember', summary: 'Remove a user from a team', params: Membership, response: withProblems({ 200: Team }) } },
    async (req) => users.setMembership(contextOf(req), req.params.id, req.params.userId, false));
};
