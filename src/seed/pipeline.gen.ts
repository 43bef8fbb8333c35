import type { DealInsert } from '../modules/pipeline/deal.table.js';
import type { LeadInsert } from '../modules/pipeline/lead.table.js';
import { dealSearchText } from '../modules/pipeline/deal.repository.js';
import { leadSearchText } from '../modules/pipeline/lead.repository.js';
import { Draw } from './draw.js';
import { uuidV7At } from './keys.js';
import { fromMinor, minorOf } from './money.js';
import { personOf } from './people.js';
import { companyOf, contactPerson } from './customers.gen.js';
import {
  DAY, type SeedPipeline, type SeedStage, type World, companyId, contactBefore, contactCurrency, contactId, createdAtOf,
  idOf, isGulf, usersOf,
} from './world.js';

// Pipelines and their stages, deals (with their contacts and stage history) and leads. A deal's
// status follows its stage's kind and its position is its place in the stage, numbered from 0, as
// the deal service keeps them.

const PIPELINES: { name: string; stages: [string, number, SeedStage['kind']][] }[] = [
  { name: 'New business', stages: [['Qualification', 10, 'open'], ['Discovery', 25, 'open'], ['Proposal', 50, 'open'], ['Negotiation', 75, 'open'], ['Won', 100, 'won'], ['Lost', 0, 'lost']] },
  { name: 'Renewals', stages: [['Upcoming', 40, 'open'], ['Quoted', 70, 'open'], ['Renewed', 100, 'won'], ['Churned', 0, 'lost']] },
];

export function seedPipelines(seed: number, at: number): SeedPipeline[] {
  let stageIndex = 0;
  return PIPELINES.map((p, k) => ({
    id: uuidV7At(at, seed, 'pipeline', k),
    name: p.name,
    stages: p.stages.map(([name, probability, kind], position) => ({
      id: uuidV7At(at, seed, 'stage', stageIndex++), name, probability, position, kind,
    })),
  }));
}

export function* pipelineRows(w: World) {
  for (const [k, p] of w.pipelines.entries()) {
    const at = new Date(w.start);
    yield { id: p.id, createdAt: at, updatedAt: at, version: 1, deletedAt: null, name: p.name, isDefault: k === 0 };
  }
}

export function* stageRows(w: World) {
  for (const p of w.pipelines) {
    for (const s of p.stages) {
      yield { id: s.id, pipelineId: p.id, name: s.name, probability: s.probability, position: s.position, kind: s.kind, createdAt: new Date(w.start), deletedAt: null };
    }
  }
}

const PRODUCTS = ['ERP rollout', 'Fleet tracking', 'POS terminals', 'Cloud hosting', 'Annual support', 'Training', 'Loyalty app', 'Data migration'];
const LOST_REASONS = ['price', 'timing', 'chose a competitor', 'no budget', 'no decision'];
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export interface GeneratedDeal {
  row: DealInsert;
  contactIndex: number;
  /** the stage it was created in, when it has moved since */
  firstStage: SeedStage | undefined;
  createdBy: string;
}

export function* generatedDeals(w: World): Generator<GeneratedDeal> {
  const d = new Draw(w.seed, 'deal');
  const people = new Draw(w.seed, 'contact');
  const positions = new Map<string, number>();
  for (let i = 0; i < w.scale.deals; i++) {
    const created = createdAtOf(w, 'deal', i, w.scale.deals);
    d.at(i);
    const contactIndex = contactBefore(w, created, d.unit());
    const person = contactPerson(people, w, contactIndex);
    const pipeline = d.weighted([[w.pipelines[0]!, 7], [w.pipelines[1]!, 3]]);
    const open = pipeline.stages.filter((s) => s.kind === 'open');
    const age = w.until - created;
    const kind = d.weighted<SeedStage['kind']>(age > 120 * DAY ? [['open', 2], ['won', 4], ['lost', 4]] : [['open', 8], ['won', 1], ['lost', 1]]);
    const stage = kind === 'open' ? d.pick(open) : pipeline.stages.find((s) => s.kind === kind)!;
    const moved = stage.id !== open[0]!.id;
    const entered = moved ? created + Math.floor(d.unit() * Math.min(age, 90 * DAY)) : created;
    const owner = d.pick(usersOf(w, 'sales'));
    const currency = contactCurrency(w, contactIndex);
    const amount = fromMinor(minorOf(d.int(5, 2_000) * 100, currency), currency);
    const position = positions.get(stage.id) ?? 0;
    positions.set(stage.id, position + 1);
    const buyer = person.companyIndex === undefined ? `${person.firstName} ${person.lastName}` : companyOf(w, person.companyIndex).name;
    const name = `${buyer} — ${d.pick(PRODUCTS)}`;
    yield {
      contactIndex,
      firstStage: moved ? open[0] : undefined,
      createdBy: owner.id,
      row: {
        id: idOf(w, 'deal', i, w.scale.deals), createdAt: new Date(created), updatedAt: new Date(entered), version: moved ? 2 : 1, deletedAt: null,
        name, pipelineId: pipeline.id, stageId: stage.id, amount, currency,
        expectedCloseDate: date(created + d.int(14, 120) * DAY),
        companyId: person.companyIndex === undefined ? null : companyId(w, person.companyIndex),
        status: stage.kind, lostReason: stage.kind === 'lost' ? d.pick(LOST_REASONS) : null,
        closedAt: stage.kind === 'open' ? null : new Date(entered), position, stageEnteredAt: new Date(entered), leadId: null,
        ownerId: owner.id, teamId: owner.teamIds[0] ?? null, custom: {}, searchText: dealSearchText({ name }),
      },
    };
  }
}

export function* dealRows(w: World) {
  for (const g of generatedDeals(w)) yield g.row;
}

export function* dealContactRows(w: World) {
  for (const g of generatedDeals(w)) yield { dealId: g.row.id!, contactId: contactId(w, g.contactIndex), position: 0 };
}

/** the creation entry of every deal, and the move to its current stage when it has moved */
export function* dealHistoryRows(w: World) {
  let n = 0;
  for (const g of generatedDeals(w)) {
    const created = g.row.createdAt as Date;
    const entered = g.row.stageEnteredAt as Date;
    const first = g.firstStage?.id ?? g.row.stageId;
    yield { id: uuidV7At(created.getTime(), w.seed, 'history', n++), dealId: g.row.id!, fromStageId: null, toStageId: first, changedAt: created, changedBy: g.createdBy, msInPreviousStage: null };
    if (g.firstStage) {
      yield {
        id: uuidV7At(entered.getTime(), w.seed, 'history', n++), dealId: g.row.id!, fromStageId: g.firstStage.id, toStageId: g.row.stageId,
        changedAt: entered, changedBy: g.createdBy, msInPreviousStage: entered.getTime() - created.getTime(),
      };
    }
  }
}

const LEAD_STATUSES = [['new', 4], ['contacted', 3], ['qualified', 2], ['unqualified', 1]] as const;

export function* leadRows(w: World): Generator<LeadInsert> {
  const d = new Draw(w.seed, 'lead');
  for (let i = 0; i < w.scale.leads; i++) {
    const gulf = isGulf(w, 'lead', i);
    const p = personOf(d, i, gulf, undefined);
    const at = new Date(createdAtOf(w, 'lead', i, w.scale.leads));
    const companyName = d.chance(0.6) ? d.en.company.name() : null;
    const owner = d.pick(usersOf(w, 'sales', 'marketing'));
    const values = { firstName: p.firstName, lastName: p.lastName, email: p.email.replace('@mail.example', '@leads.example'), companyName };
    yield {
      id: idOf(w, 'lead', i, w.scale.leads), createdAt: at, updatedAt: at, version: 1, deletedAt: null,
      ...values, phone: p.phone, companyDomain: null, source: d.pick(['website', 'webinar', 'trade show', 'linkedin']),
      status: d.weighted(LEAD_STATUSES), score: 0, ownerId: owner.id, teamId: owner.teamIds[0] ?? null, custom: {},
      searchText: leadSearchText(values), convertedAt: null, convertedContactId: null, convertedCompanyId: null, convertedDealId: null,
    };
  }
}
