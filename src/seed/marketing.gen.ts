import { Draw } from './draw.js';
import { uuidV7At } from './keys.js';
import { fromMinor, minorOf } from './money.js';
import { contactPerson } from './customers.gen.js';
import { DAY, type World, contactBefore, contactId, emailOptedIn, usersOf } from './world.js';

// Segments, and email campaigns that were sent to the opted-in contacts of their time, with what
// the recipients did (delivered, opened, clicked, bounced). The last campaign is still a draft.

export interface SeedSegment { id: string; name: string; rules: Record<string, unknown> }

export function seedSegments(w: World): SeedSegment[] {
  return [
    { id: uuidV7At(w.start, w.seed, 'segment', 0), name: 'Opted-in customers', rules: { filter: { emailOptIn: { eq: true }, lifecycleStage: { eq: 'customer' } } } },
    { id: uuidV7At(w.start, w.seed, 'segment', 1), name: 'Newsletter subscribers', rules: { filter: { emailOptIn: { eq: true } } } },
  ];
}

export function* segmentRows(w: World) {
  const owner = usersOf(w, 'marketing')[0]!;
  for (const s of seedSegments(w)) {
    yield { id: s.id, createdAt: new Date(w.start), updatedAt: new Date(w.start), version: 1, deletedAt: null, ownerId: owner.id, teamId: owner.teamIds[0] ?? null, name: s.name, description: null, rules: s.rules };
  }
}

const NAMES = ['Ramadan offers', 'Eid al-Fitr sale', 'White Friday', 'Summer clearance', 'National Day', 'New collection', 'Back to school', 'Eid al-Adha sale', 'Winter deals', 'Loyalty double points', 'Year-end sale', 'Spring launch'];
/** recipients of one campaign at most: enough to show engagement, bounded at any scale */
const MAX_RECIPIENTS = 2_000;

interface GeneratedCampaign { row: Record<string, unknown> & { id: string; status: string }; sentAt: number }

export function* generatedCampaigns(w: World): Generator<GeneratedCampaign> {
  const d = new Draw(w.seed, 'campaign');
  const segments = seedSegments(w);
  const owner = usersOf(w, 'marketing')[0]!;
  for (let k = 0; k < w.scale.campaigns; k++) {
    d.at(k);
    const draft = k === w.scale.campaigns - 1;
    const sentAt = w.until - (w.scale.campaigns - k) * 30 * DAY;
    const currency = d.pick(['SAR', 'AED', 'EUR'] as const);
    const created = new Date(sentAt - 7 * DAY);
    yield {
      sentAt,
      row: {
        id: uuidV7At(created.getTime(), w.seed, 'campaign', k), createdAt: created, updatedAt: new Date(draft ? created : new Date(sentAt)), version: draft ? 1 : 3,
        deletedAt: null, ownerId: owner.id, teamId: owner.teamIds[0] ?? null, name: NAMES[k % NAMES.length]!, channel: 'email',
        segmentId: segments[k % 2]!.id, subject: `${NAMES[k % NAMES.length]} — up to ${d.int(2, 7) * 10}% off`,
        content: '<p>Hello {{firstName}},</p><p>Our offers are here: <a href="https://shop.example/offers">see them</a>.</p>',
        status: draft ? 'draft' : 'sent', scheduledAt: null,
        budget: fromMinor(minorOf(d.int(5, 50) * 1000, currency), currency), spend: draft ? null : fromMinor(minorOf(d.int(2, 40) * 1000, currency), currency),
        currency, startedAt: draft ? null : new Date(sentAt), sentAt: draft ? null : new Date(sentAt + 3600_000), cancelledAt: null,
      },
    };
  }
}

export function* campaignRows(w: World) {
  for (const c of generatedCampaigns(w)) yield c.row;
}

interface Recipient { campaignId: string; contactIndex: number; sentAt: number; n: number }

function* recipients(w: World): Generator<Recipient> {
  let n = 0;
  for (const c of generatedCampaigns(w)) {
    if (c.row.status !== 'sent') continue;
    const known = contactBefore(w, c.sentAt, 1);
    const step = Math.max(1, Math.floor(known / MAX_RECIPIENTS));
    for (let j = c.row.id.charCodeAt(35) % step; j < known; j += step) {
      if (emailOptedIn(w, j)) yield { campaignId: c.row.id, contactIndex: j, sentAt: c.sentAt + (n % 3600) * 1000, n: n++ };
    }
  }
}

export function* recipientRows(w: World) {
  const people = new Draw(w.seed, 'contact');
  for (const r of recipients(w)) {
    const at = new Date(r.sentAt);
    yield {
      id: uuidV7At(r.sentAt, w.seed, 'recipient', r.n), campaignId: r.campaignId, contactId: contactId(w, r.contactIndex),
      email: contactPerson(people, w, r.contactIndex).email, status: 'sent', attempts: 1, attemptedAt: at, sentAt: at,
      messageId: `<seed-${w.seed}-${r.n}@crm.example>`, error: null, createdAt: at,
    };
  }
}

export function* campaignEventRows(w: World) {
  const d = new Draw(w.seed, 'campaignEvent');
  let n = 0;
  for (const r of recipients(w)) {
    d.at(r.n);
    const event = (type: string, after: number, url: string | null = null) => {
      const at = new Date(r.sentAt + after);
      return {
        id: uuidV7At(at.getTime(), w.seed, 'campaignEvent', n++), campaignId: r.campaignId, contactId: contactId(w, r.contactIndex), type,
        source: 'tracking', occurredAt: at, url, orderId: null, amount: null, currency: null, externalId: null, createdAt: at,
      };
    };
    if (d.chance(0.02)) {
      yield { ...event('bounced', 60_000), source: 'ingest' };
      continue;
    }
    yield { ...event('delivered', 30_000), source: 'ingest' };
    if (!d.chance(0.4)) continue;
    yield event('opened', d.int(5, 3000) * 60_000);
    if (d.chance(0.25)) yield event('clicked', 3001 * 60_000 + d.int(0, 600) * 1000, 'https://shop.example/offers');
  }
}
