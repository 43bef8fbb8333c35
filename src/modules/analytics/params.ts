import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor, Role } from '../../platform/auth/actor.js';
import { type Scope, assertCan } from '../../platform/auth/permissions.js';
import { AppError, validationFailed } from '../../platform/errors/app-error.js';
import { issuesToFieldErrors } from '../../platform/errors/field-errors.js';
import { nonDecimalMinorUnitsJson } from '../../platform/http/money.js';
import { formatParam } from './formats.js';

// The parameters every figure shares (docs/metrics.md "Common parameters") and the SQL pieces they
// become: the instant range, the time zone of buckets, the bucket series.

export const INTERVALS = ['day', 'week', 'month', 'quarter'] as const;
export type Interval = (typeof INTERVALS)[number];
export const STEP: Record<Interval, string> = { day: '1 day', week: '1 week', month: '1 month', quarter: '3 months' };
/** a series longer than this is refused: narrow the range or take a longer interval */
export const MAX_BUCKETS = 1000;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

function validDay(s: string): boolean {
  const d = new Date(`${s.slice(0, 10)}T00:00:00.000Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s.slice(0, 10);
}

const Bound = z
  .string()
  .refine((s) => (DATE.test(s) || INSTANT.test(s)) && validDay(s) && !Number.isNaN(Date.parse(DATE.test(s) ? `${s}T00:00:00Z` : s)),
    'must be a date YYYY-MM-DD or an ISO instant with offset (2026-11-23T17:44:11.000Z)');

export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const common = {
  from: Bound.optional().describe('Start (inclusive): an ISO instant, or a date meaning its first instant in timeZone. Default: all time'),
  to: Bound.optional().describe('End: an ISO instant (exclusive), or a date (inclusive: up to the next day in timeZone). Default: now / all time'),
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Riyadh').default('UTC')
    .describe('IANA time zone of dates and buckets (default UTC)'),
  format: formatParam,
};
export const intervalParam = z.enum(INTERVALS).optional().describe('With it, the figure also comes as a series of buckets (day, week from Monday, month, quarter) in timeZone');

/** Parses a figure's parameters (REST query or GraphQL arguments): unknown ones are refused. */
export function parseParams<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const input = Object.fromEntries(Object.entries((raw ?? {}) as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined));
  const r = schema.safeParse(input);
  if (!r.success) throw validationFailed(issuesToFieldErrors(r.error.issues));
  return r.data;
}

/** Offset (ms) of the wall clock of `tz` from UTC at `at`. */
function offsetAt(at: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(at));
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(at / 1000) * 1000;
}

/** The first instant of a calendar day in `tz` (a day starting in a DST gap starts at the gap's end). */
export function startOfDay(day: string, tz: string, plusDays = 0): Date {
  const wall = Date.parse(`${day}T00:00:00.000Z`) + plusDays * 86_400_000;
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz);
  return new Date(t);
}

/** A range of instants [from, to); either end open. */
export interface Range {
  from?: Date | undefined;
  to?: Date | undefined;
}

export function resolveRange(q: { from?: string | undefined; to?: string | undefined; timeZone: string }): Range {
  const at = (s: string, end: boolean) => (DATE.test(s) ? startOfDay(s, q.timeZone, end ? 1 : 0) : new Date(s));
  const r: Range = { from: q.from ? at(q.from, false) : undefined, to: q.to ? at(q.to, true) : undefined };
  if (r.from && r.to && r.from >= r.to) throw validationFailed([{ path: 'to', message: 'must be after from' }]);
  return r;
}

/** `col` within the range, or TRUE. */
export function inRange(col: SQL, r: Range): SQL {
  const parts: SQL[] = [];
  if (r.from) parts.push(sql`${col} >= ${r.from.toISOString()}::timestamptz`);
  if (r.to) parts.push(sql`${col} < ${r.to.toISOString()}::timestamptz`);
  return parts.length ? sql.join(parts, sql` AND `) : sql`TRUE`;
}

export const tsOrNull = (d: Date | undefined): SQL => (d ? sql`${d.toISOString()}::timestamptz` : sql`NULL::timestamptz`);

/** The local start of the bucket containing `col`, in the time zone. */
export const bucketOf = (col: SQL, interval: Interval, tz: string): SQL => sql`date_trunc(${interval}, ${col} AT TIME ZONE ${tz})`;

/** `value` rounded to the minor units of the currency in column `currency`. */
export const roundMoney = (value: SQL, currency: SQL): SQL =>
  sql`round(${value}, coalesce((${nonDecimalMinorUnitsJson()}::jsonb ->> ${currency})::int, 2))`;

// ---- who may read which figures (API.md §4 "analytics", refined in docs/metrics.md)

export type Area = 'sales' | 'customers' | 'service' | 'marketing';
const AREAS: Record<Role, readonly Area[]> = {
  admin: ['sales', 'customers', 'service', 'marketing'],
  manager: ['sales', 'customers', 'service', 'marketing'],
  viewer: ['sales', 'customers', 'service', 'marketing'],
  sales: ['sales', 'customers', 'service'],
  support: ['service'],
  marketing: ['marketing'],
};

export const mayRead = (actor: Actor, area: Area): boolean => AREAS[actor.role].includes(area);

/** 403 unless the role may read the area's figures; the record scope that limits them otherwise. */
export function assertArea(actor: Actor, area: Area): Scope {
  const scope = assertCan(actor, 'analytics', 'read');
  if (!mayRead(actor, area)) throw new AppError('forbidden', `The ${actor.role} role may not read ${area} figures`);
  return scope;
}

/** Fraction a/b as a number (0–1), null when b is 0. */
export const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);
export const num = (v: string | number | null | undefined): number => (v === null || v === undefined ? 0 : Number(v));
export const numOrNull = (v: string | number | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
