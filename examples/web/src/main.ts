import { CrmApiError } from './crm.js';
import { h, show } from './dom.js';
import { clearSession, currentSession } from './session.js';
import { renderBoard } from './views/board.js';
import { renderCustomer360 } from './views/customer-360.js';
import { renderCustomers } from './views/customers.js';
import { renderLogin } from './views/login.js';

// Hash routes, so the built files can be served by any static server:
//   #/login · #/board[/<pipelineId>] · #/contacts[?q=…] · #/contacts/<id>

const app = document.getElementById('app') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const notice = document.getElementById('notice') as HTMLElement;

let carriedNotice = '';

function notify(text: string): void {
  notice.textContent = text;
  notice.hidden = !text;
}

function renderNav(): void {
  const session = currentSession();
  show(nav, session
    ? h('nav', {}, h('a', { href: '#/board' }, 'Deals board'), h('a', { href: '#/contacts' }, 'Customers'), h('span', { class: 'who' }, session.email),
      h('button', { type: 'button', onclick: () => { clearSession(); location.hash = '#/login'; } }, 'Sign out'))
    : null);
}

async function route(): Promise<void> {
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  renderNav();
  if (!currentSession() || parts[0] === 'login') {
    return renderLogin(app, () => {
      notify('');
      location.hash = '#/board';
    });
  }
  if (parts[0] === 'contacts' && parts[1]) return renderCustomer360(app, parts[1]);
  if (parts[0] === 'contacts') return renderCustomers(app, new URLSearchParams(query).get('q') ?? '');
  return renderBoard(app, parts[1], notify);
}

async function navigate(): Promise<void> {
  try {
    await route();
  } catch (err) {
    // an expired or revoked token: sign in again
    if (err instanceof CrmApiError && err.status === 401) {
      clearSession();
      carriedNotice = 'Your session has ended; please sign in again.';
      location.hash = '#/login';
      return;
    }
    notify(err instanceof CrmApiError ? `${err.problem.title}: ${err.problem.detail ?? ''} (request ${err.requestId ?? '?'})` : String(err));
  }
}

window.addEventListener('hashchange', () => {
  // a message belongs to the page it was shown on, unless it explains why this page was opened
  notify(carriedNotice);
  carriedNotice = '';
  void navigate();
});
void navigate();
