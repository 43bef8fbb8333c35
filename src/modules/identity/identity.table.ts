import { boolean, index, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { idColumn, recordColumns, ts } from '../../platform/db/columns.js';

/** People who sign in. Never deleted: deactivated, so their history keeps a name. */
export const users = pgTable(
  'users',
  {
    ...recordColumns(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    passwordHash: text('password_hash').notNull(),
    active: boolean('active').notNull().default(true),
    lastLoginAt: ts('last_login_at'),
  },
  (t) => [uniqueIndex('users_email_key').on(t.email), index('users_created_idx').on(t.createdAt, t.id)],
);

export const teams = pgTable(
  'teams',
  {
    ...recordColumns(),
    name: text('name').notNull(),
  },
  (t) => [uniqueIndex('teams_name_live_key').on(t.name).where(sql`${t.deletedAt} IS NULL`), index('teams_created_idx').on(t.createdAt, t.id)],
);

export const teamMembers = pgTable(
  'team_members',
  {
    teamId: uuid('team_id').notNull().references(() => teams.id),
    userId: uuid('user_id').notNull().references(() => users.id),
    /** order of joining: a user's first team is the default teamId of what they create */
    joinedAt: ts('joined_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index('team_members_user_idx').on(t.userId, t.joinedAt)],
);

/** Refresh tokens, stored as SHA-256 of the random token. A family is one login; reuse revokes it whole. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: idColumn(),
    userId: uuid('user_id').notNull().references(() => users.id),
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('refresh_tokens_hash_key').on(t.tokenHash), index('refresh_tokens_family_idx').on(t.familyId)],
);

/** API keys, stored as SHA-256 of the key (keys are 256-bit random, so a fast hash is enough). */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: idColumn(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    keyHash: text('key_hash').notNull(),
    /** the first characters, shown in lists so people can tell keys apart */
    prefix: text('prefix').notNull(),
    createdBy: uuid('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at'),
    revokedAt: ts('revoked_at'),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [uniqueIndex('api_keys_hash_key').on(t.keyHash), index('api_keys_created_idx').on(t.createdAt, t.id)],
);

/** Failed sign-ins per account and per IP, shared by every process, so throttling holds behind a load balancer. */
export const loginThrottle = pgTable('login_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull().default(0),
  windowStart: ts('window_start').notNull().defaultNow(),
});
