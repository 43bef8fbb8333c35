import { type Schema, crm, unwrap } from '../crm.js';
import { h, money, moneyByCurrency, show, when } from '../dom.js';

type Contact = Schema<'Contact'>;
type TimelineItem = Schema<'TimelineItem'>;

/** One customer on one page: GET /v1/contacts/:id/360 for the summary, and the timeline, newest first. */
export async function renderCustomer360(app: HTMLElement, contactId: string): Promise<void> {
  const path = { id: contactId };
  const [view, timeline] = await Promise.all([
    unwrap(crm.GET('/v1/contacts/{id}/360', { params: { path } })),
    unwrap(crm.GET('/v1/contacts/{id}/timeline', { params: { path, query: { limit: 20 } } })),
  ]);
  const { contact, company } = view;
  const timelineList = h('ol', { class: 'timeline' }, timeline.data.map(timelineEntry));
  show(
    app,
    h('h1', {}, fullName(contact)),
    h('section', { class: 'profile', 'aria-label': 'Profile' }, profile(contact, company?.name)),
    h(
      'section', { class: 'figures', 'aria-label': 'Figures' },
      figure('Lifetime value', moneyByCurrency(view.lifetimeValue)),
      figure('Orders', view.orders ? `${view.orders.count} · ${moneyByCurrency(view.orders.total)}` : '—'),
      figure('Last order', when(view.orders?.lastPlacedAt)),
      figure('Loyalty points', view.loyaltyBalance ?? '—'),
      figure('Last NPS', view.lastNps ? view.lastNps.score : '—'),
    ),
    h('section', { 'aria-label': 'Open deals' }, h('h2', {}, 'Open deals'), list(view.openDeals ?? [], (d) => `${d.name} · ${money(d.amount, d.currency)}`)),
    h('section', { 'aria-label': 'Open tickets' }, h('h2', {}, 'Open tickets'), list(view.openTickets ?? [], (t) => `${t.subject} · ${t.status} · ${t.priority}`)),
    h('section', { 'aria-label': 'Timeline' }, h('h2', {}, 'Timeline'), timelineList, moreButton(contactId, timeline.nextCursor, timelineList)),
  );
}

const fullName = (c: Contact) => [c.firstName, c.lastName].filter(Boolean).join(' ') || c.email || 'Unnamed contact';

function profile(c: Contact, companyName: string | undefined): HTMLElement {
  const rows: [string, string | null | undefined][] = [
    ['Email', c.email], ['Phone', c.phone], ['Job title', c.jobTitle], ['Company', companyName],
    ['Lifecycle stage', c.lifecycleStage], ['Tags', c.tags?.join(', ')], ['City', c.address?.city],
  ];
  return h('dl', {}, rows.filter(([, v]) => v).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]).flat());
}

const figure = (label: string, value: string | number) => h('div', { class: 'figure' }, h('span', {}, label), h('strong', {}, value));

function list<T>(items: T[], text: (item: T) => string): HTMLElement {
  return items.length ? h('ul', {}, items.map((i) => h('li', {}, text(i)))) : h('p', { class: 'empty' }, 'None');
}

function timelineEntry(item: TimelineItem): HTMLElement {
  return h('li', { 'data-type': item.type }, h('time', { datetime: item.occurredAt }, when(item.occurredAt)), h('span', { class: 'kind' }, item.type), h('span', {}, item.summary ?? ''));
}

/** "Older" fetches the next page with the cursor of the last one (API.md §2). */
function moreButton(contactId: string, cursor: string | null | undefined, into: HTMLElement): HTMLElement | null {
  if (!cursor) return null;
  const button: HTMLButtonElement = h('button', {
    type: 'button',
    onclick: async () => {
      const next = await unwrap(crm.GET('/v1/contacts/{id}/timeline', { params: { path: { id: contactId }, query: { limit: 20, cursor } } }));
      into.append(...next.data.map(timelineEntry));
      button.replaceWith(moreButton(contactId, next.nextCursor, into) ?? '');
    },
  }, 'Older');
  return button;
}
