import { systemContext } from '../platform/auth/actor.js';
import type { Executor } from '../platform/db/client.js';
import { createUserService } from '../modules/identity/user.service.js';
import { mix32 } from './keys.js';
import type { SeedUser } from './world.js';

// The people who sign in: teams and users of every role, made through the identity service (so
// passwords are Argon2id hashes and each creation is audited). Passwords follow from the seed, so a
// demo database made with a known --seed has known logins; they are printed at the end of a seed.

export interface Login { email: string; password: string; role: string; name: string }

const TEAMS = ['Riyadh sales', 'Dubai sales', 'Customer care', 'Marketing'] as const;
type TeamName = (typeof TEAMS)[number];

const ACCOUNTS: { key: string; name: string; role: SeedUser['role']; teams: TeamName[] }[] = [
  { key: 'admin', name: 'نورة الحربي (Noura Alharbi)', role: 'admin', teams: [] },
  { key: 'manager', name: 'Khalid Alotaibi', role: 'manager', teams: ['Riyadh sales', 'Dubai sales'] },
  { key: 'sales1', name: 'سارة القحطاني (Sarah Alqahtani)', role: 'sales', teams: ['Riyadh sales'] },
  { key: 'sales2', name: 'Faisal Alghamdi', role: 'sales', teams: ['Riyadh sales'] },
  { key: 'sales3', name: 'Emma Schneider', role: 'sales', teams: ['Dubai sales'] },
  { key: 'sales4', name: 'أحمد المنصوري (Ahmed Almansoori)', role: 'sales', teams: ['Dubai sales'] },
  { key: 'support1', name: 'مريم الكندري (Maryam Alkandari)', role: 'support', teams: ['Customer care'] },
  { key: 'support2', name: 'Lucas Martin', role: 'support', teams: ['Customer care'] },
  { key: 'marketing', name: 'Layla Alhashimi', role: 'marketing', teams: ['Marketing'] },
  { key: 'viewer', name: 'Omar Alsabah', role: 'viewer', teams: [] },
];

export const LOGIN_DOMAIN = 'crm.example';

/** 12+ characters that follow from the seed and the account (and, as the service demands, do not contain the email) */
export function passwordOf(seed: number, key: string): string {
  const codes = [...key].map((c) => c.charCodeAt(0));
  return `demo-${mix32(seed, ...codes).toString(36).padStart(7, '0')}-${mix32(seed, 7, ...codes).toString(36).padStart(7, '0')}`;
}

export async function createAccounts(db: Executor, seed: number): Promise<{ users: SeedUser[]; logins: Login[] }> {
  const identity = createUserService({ db });
  const ctx = systemContext('seed-demo');
  const teamIds = new Map<string, string>();
  for (const name of TEAMS) teamIds.set(name, (await identity.createTeam(ctx, { name })).id);
  const users: SeedUser[] = [];
  const logins: Login[] = [];
  for (const a of ACCOUNTS) {
    const email = `${a.key}@${LOGIN_DOMAIN}`;
    const password = passwordOf(seed, a.key);
    const ids = a.teams.map((t) => teamIds.get(t)!);
    const user = await identity.create(ctx, { email, password, name: a.name, role: a.role, teamIds: ids });
    users.push({ id: user.id, email, name: a.name, role: a.role, teamIds: ids });
    logins.push({ email, password, role: a.role, name: a.name });
  }
  return { users, logins };
}
