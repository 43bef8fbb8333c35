import { crm, unwrap } from '../crm.js';
import { h, show } from '../dom.js';

/** Finds contacts by name, email or phone (the API's `q` search) and links each to its 360 page. */
export async function renderCustomers(app: HTMLElement, q: string): Promise<void> {
  const search = h('input', { type: 'search', name: 'q', value: q, placeholder: 'Name, email or phone', 'aria-label': 'Search contacts' });
  const form = h('form', { class: 'toolbar', onsubmit: (e: Event) => { e.preventDefault(); location.hash = `#/contacts?q=${encodeURIComponent(search.value)}`; } }, search, h('button', { type: 'submit' }, 'Search'));
  const page = await unwrap(crm.GET('/v1/contacts', { params: { query: { limit: 50, ...(q ? { q } : { sort: '-updatedAt' }) } } }));
  const rows = page.data.map((c) =>
    h('li', {}, h('a', { href: `#/contacts/${c.id}` }, [c.firstName, c.lastName].filter(Boolean).join(' ') || c.email || c.id), h('small', {}, ` ${c.email ?? ''}`)),
  );
  show(app, h('h1', {}, 'Customers'), form, rows.length ? h('ul', { class: 'contacts' }, rows) : h('p', {}, 'No contacts match.'));
}
