export const ROLES = ['admin', 'manager', 'sales', 'support', 'marketing', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: a signed-in user, an API key, or the service itself (workers, seeding). */
export interface Actor {
  type: 'user' | 'api_key' | 'system';
  id: string;
  role: Role;
  teamIds: string[];
}

/** What a use case needs to know about the call besides its input: who, and for the audit trail, from where. */
export interface RequestContext {
  actor: Actor;
  requestId: string;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);

export const systemContext = (requestId = 'system'): RequestContext => ({
  actor: { type: 'system', id: 'system', role: 'admin', teamIds: [] },
  requestId,
});
