// The signed-in user's tokens, kept in sessionStorage: they survive a reload but not the tab, and are
// never sent anywhere but the API. (A page that must resist XSS better keeps them in memory only, or
// behind a backend-for-frontend with an httpOnly cookie; this example stays small.)

export interface Session {
  email: string;
  accessToken: string;
  refreshToken: string;
}

const KEY = 'crm-example-session';

export function currentSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  return raw ? (JSON.parse(raw) as Session) : undefined;
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
