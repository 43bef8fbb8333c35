import { CrmApiError, crm, unwrap } from '../crm.js';
import { h, show } from '../dom.js';
import { saveSession } from '../session.js';

/** The sign-in form: POST /v1/auth/login with email and password (API.md §4). */
export function renderLogin(app: HTMLElement, next: () => void): void {
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'username' });
  const password = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'current-password' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'login', onsubmit: (e: Event) => void submit(e) },
    h('h1', {}, 'Sign in to the CRM'),
    h('label', {}, 'Email', email),
    h('label', {}, 'Password', password),
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  async function submit(e: Event) {
    e.preventDefault();
    error.textContent = '';
    try {
      const tokens = await unwrap(crm.POST('/v1/auth/login', { body: { email: email.value, password: password.value } }));
      saveSession({ email: email.value, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken });
      next();
    } catch (err) {
      error.textContent = err instanceof CrmApiError ? (err.problem.detail ?? err.problem.title) : String(err);
    }
  }
  show(app, form);
  email.focus();
}
