import type { Test } from 'tap';
import type { LightMyRequestResponse } from 'fastify';

// A refusal says who may not do what, and nothing about the record it was aimed at.

const PROBLEM_KEYS = new Set(['type', 'title', 'status', 'detail', 'code', 'requestId', 'errors']);

/** Text of the world's records that must never appear in an answer that refused the caller. */
export const FIXTURE_MARKERS = ['Fixture', '@world.example', '+966501234567'];

export function assertProblem(t: Test, res: LightMyRequestResponse, status: number, code: string, label: string): void {
  t.match(String(res.headers['content-type']), /^application\/problem\+json/, `${label}: problem+json`);
  const body = res.json() as Record<string, unknown>;
  t.match(body, { status, code }, `${label}: ${code}`);
  const extra = Object.keys(body).filter((k) => !PROBLEM_KEYS.has(k));
  t.same(extra, [], `${label}: only problem fields in the body`);
  for (const e of (body.errors as Record<string, unknown>[] | undefined) ?? []) {
    t.same(Object.keys(e).filter((k) => k !== 'path' && k !== 'message'), [], `${label}: errors[] hold path and message only`);
  }
  const leaked = FIXTURE_MARKERS.filter((m) => res.body.includes(m));
  t.same(leaked, [], `${label}: no record data in the body`);
}

/** GraphQL: the first error carries the code and status; data holds nothing about a record. */
export function assertGraphqlRefusal(t: Test, res: LightMyRequestResponse, status: number, code: string, label: string): void {
  const body = res.json() as { data?: Record<string, unknown> | null; errors?: { extensions?: Record<string, unknown> }[] };
  t.match(body.errors?.[0]?.extensions, { code, status }, `${label}: ${code}`);
  const data = Object.values(body.data ?? {}).filter((v) => v !== null);
  t.same(data, [], `${label}: no data`);
  const leaked = FIXTURE_MARKERS.filter((m) => res.body.includes(m));
  t.same(leaked, [], `${label}: no record data in the body`);
}
