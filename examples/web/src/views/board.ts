import { CrmApiError, type Schema, crm, unwrap } from '../crm.js';
import { h, money, moneyByCurrency, show } from '../dom.js';
import { totalsByCurrency } from '../money.js';
import { type Drop, makeDraggable, makeDropZone } from './board-drag.js';

type Deal = Schema<'Deal'>;
type Pipeline = Schema<'Pipeline'>;

/** The kanban board of one pipeline: a column per stage, its open and closed deals as cards. */
export async function renderBoard(app: HTMLElement, pipelineId: string | undefined, notify: (text: string) => void): Promise<void> {
  const pipelines = await unwrap(crm.GET('/v1/pipelines', { params: { query: { limit: 200 } } }));
  const pipeline = pipelines.data.find((p) => p.id === pipelineId) ?? pipelines.data[0];
  if (!pipeline) return show(app, h('p', {}, 'There is no pipeline yet: create one with POST /v1/pipelines.'));

  const deals: Deal[] = [];
  for await (const deal of crm.items('/v1/deals', { query: { filter: { pipelineId: { eq: pipeline.id } }, sort: 'position', limit: 200 } })) deals.push(deal);

  const move = async (drop: Drop) => {
    const deal = deals.find((d) => d.id === drop.dealId);
    if (!deal || (deal.stageId === drop.stageId && deal.position === drop.position)) return;
    try {
      // If-Match: a card someone else changed since the board loaded is refused, not overwritten
      await unwrap(crm.PATCH('/v1/deals/{id}', {
        params: { path: { id: deal.id } },
        headers: { 'If-Match': `"${deal.version}"` },
        body: { stageId: drop.stageId, position: drop.position },
      }));
    } catch (err) {
      if (!(err instanceof CrmApiError)) throw err;
      notify(err.code === 'version_conflict' ? `"${deal.name}" was changed by someone else; the board is reloaded.` : (err.problem.detail ?? err.problem.title));
    }
    await renderBoard(app, pipeline.id, notify);
  };

  show(app, pipelinePicker(pipelines.data, pipeline), h('div', { class: 'board', 'aria-label': `Deals of ${pipeline.name}` }, pipeline.stages.map((stage) => column(stage, deals.filter((d) => d.stageId === stage.id), move))));
}

function pipelinePicker(all: Pipeline[], current: Pipeline): HTMLElement {
  const select = h('select', { onchange: (e: Event) => (location.hash = `#/board/${(e.target as HTMLSelectElement).value}`) });
  for (const p of all) select.append(h('option', { value: p.id, selected: p.id === current.id }, p.name));
  return h('p', { class: 'toolbar' }, h('label', {}, 'Pipeline ', select));
}

function column(stage: Pipeline['stages'][number], deals: Deal[], move: (drop: Drop) => void): HTMLElement {
  const list = h('ol', { class: 'cards' }, deals.map(card));
  makeDropZone(list, stage.id, move);
  return h(
    'section',
    { class: `stage stage-${stage.kind}`, 'data-stage-id': stage.id },
    h('h2', {}, stage.name, h('small', {}, ` ${stage.probability} % · ${deals.length}`)),
    h('p', { class: 'total' }, moneyByCurrency(totalsByCurrency(deals))),
    list,
  );
}

function card(deal: Deal): HTMLElement {
  const contactId = deal.contactIds?.[0];
  const el = h(
    'li',
    { class: 'card', 'data-deal-id': deal.id },
    h('strong', {}, deal.name),
    h('span', {}, money(deal.amount, deal.currency)),
    contactId ? h('a', { href: `#/contacts/${contactId}` }, 'Customer 360 →') : null,
  );
  makeDraggable(el, deal.id);
  return el;
}
