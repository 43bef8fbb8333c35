import { z } from 'zod';
import { ROLES } from '../../platform/auth/actor.js';
import { Timestamp, Uuid, iso } from '../../platform/http/common.schema.js';
import type { users } from './identity.table.js';

const Email = z.string().trim().toLowerCase().pipe(z.email()).describe('lower-cased');
const Role = z.enum(ROLES);

export const UserCreate = z
  .object({
    email: Email,
    password: z.string().describe('at least 12 characters, not your email'),
    name: z.string().trim().min(1).max(200),
    role: Role,
    teamIds: z.array(Uuid).max(50).optional(),
  })
  .strict()
  .meta({ id: 'UserCreate' });

export const UserPatch = z
  .object({
    email: Email,
    password: z.string(),
    name: z.string().trim().min(1).max(200),
    role: Role,
    teamIds: z.array(Uuid).max(50),
    active: z.boolean().describe('false deactivates: sign-in refused, refresh tokens revoked'),
  })
  .partial()
  .strict()
  .meta({ id: 'UserPatch' });

export const User = z
  .object({
    id: Uuid,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: z.number().int(),
    email: z.string(),
    name: z.string(),
    role: Role,
    active: z.boolean(),
    teamIds: z.array(Uuid),
    lastLoginAt: Timestamp.nullable(),
  })
  .meta({ id: 'User' });

export type UserDto = z.infer<typeof User>;
export const UserList = z.object({ data: z.array(User), nextCursor: z.string().nullable() }).meta({ id: 'UserList' });
export const userFieldNames = Object.keys(User.shape);

export function toUserDto(r: typeof users.$inferSelect, teamIds: string[]): UserDto {
  return {
    id: r.id,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    version: r.version,
    email: r.email,
    name: r.name,
    role: r.role as UserDto['role'],
    active: r.active,
    teamIds,
    lastLoginAt: iso(r.lastLoginAt),
  };
}

/** What any role sees of a user when a record embeds its owner (`include=owner`, GraphQL `owner`). */
export const UserSummary = z.object({ id: Uuid, name: z.string(), email: z.string() }).meta({ id: 'UserSummary' });
export type UserSummaryDto = z.infer<typeof UserSummary>;

export const Team = z
  .object({
    id: Uuid,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: z.number().int(),
    deletedAt: Timestamp.nullable(),
    name: z.string(),
    memberIds: z.array(Uuid),
  })
  .meta({ id: 'Team' });
export type TeamDto = z.infer<typeof Team>;
export const TeamCreate = z.object({ name: z.string().trim().min(1).max(200) }).strict().meta({ id: 'TeamCreate' });
export const TeamPatch = TeamCreate.partial().strict().meta({ id: 'TeamPatch' });
export const TeamList = z.object({ data: z.array(Team), nextCursor: z.string().nullable() }).meta({ id: 'TeamList' });
