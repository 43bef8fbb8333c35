import type { SlaPolicyRow, TicketPriority } from '../modules/service/sla-policy.table.js';
import type { TicketStatus } from '../modules/service/ticket.table.js';
import { ticketSearchText } from '../modules/service/ticket.repository.js';
import { calendarOf, dueTimes } from '../modules/service/sla.js';
import { businessMinutesBetween } from '../modules/service/business-time.js';
import { calendarKey } from '../modules/service/ticket-business-times.js';
import { Draw } from './draw.js';
import { uuidV7At } from './keys.js';
import { DAY, type World, contactBefore, contactId, createdAtOf, idOf, usersOf } from './world.js';

// The SLA policy, tickets with their comments, and satisfaction ratings. Due times come from the
// service's own SLA clock (sla.ts); a ticket that missed a due time carries the breach as the breach
// scheduler would have recorded it, so starting the server on seeded data announces nothing old.

const MINUTE = 60_000;

export function seedSlaPolicy(seed: number, at: number): SlaPolicyRow {
  const created = new Date(at);
  return {
    id: uuidV7At(at, seed, 'slaPolicy', 0), createdAt: created, updatedAt: created, version: 1, deletedAt: null,
    name: 'Standard (around the clock)', isDefault: true, timeZone: 'Asia/Riyadh', businessHours: null, holidays: [],
    targets: [
      { priority: 'urgent', firstResponseMinutes: 30, resolutionMinutes: 240 },
      { priority: 'high', firstResponseMinutes: 60, resolutionMinutes: 480 },
      { priority: 'normal', firstResponseMinutes: 240, resolutionMinutes: 1440 },
      { priority: 'low', firstResponseMinutes: 480, resolutionMinutes: 2880 },
    ],
  };
}

const SUBJECTS = [
  'Order arrived damaged', 'Refund not received', 'Cannot sign in to the app', 'Wrong size delivered', 'Invoice needs VAT number',
  'تأخر توصيل الطلب', 'استرجاع مبلغ الطلب', 'مشكلة في تسجيل الدخول', 'طلب تغيير عنوان التوصيل', 'استفسار عن نقاط الولاء',
];
const PRIORITIES = [['low', 2], ['normal', 5], ['high', 2], ['urgent', 1]] as const;
const CHANNELS = ['email', 'phone', 'chat', 'web', 'social', 'api'] as const;

interface GeneratedTicket {
  row: Record<string, unknown> & { id: string; createdAt: Date; requesterId: string; assigneeId: string | null };
  replies: { at: Date; body: string; visibility: 'public' | 'internal'; authorType: 'user' | 'contact'; authorId: string | null }[];
  rating: { score: number; at: Date } | undefined;
}

export function* generatedTickets(w: World, policy: SlaPolicyRow): Generator<GeneratedTicket> {
  const d = new Draw(w.seed, 'ticket');
  const agents = usersOf(w, 'support');
  // the stored business times as the ticket writer leaves them (every seeded ticket is under the policy)
  const calendar = calendarOf(policy);
  const calendarId = calendarKey(calendar);
  const businessMinutes = (from: number, to: number | null) => (to === null ? null : businessMinutesBetween(calendar, new Date(from), new Date(to)));
  for (let i = 0; i < w.scale.tickets; i++) {
    const created = createdAtOf(w, 'ticket', i, w.scale.tickets);
    d.at(i);
    const requester = contactId(w, contactBefore(w, created, d.unit()));
    const priority: TicketPriority = d.weighted(PRIORITIES);
    const age = w.until - created;
    const status: TicketStatus = age > 14 * DAY
      ? d.weighted([['closed', 6], ['solved', 3], ['open', 1]])
      : d.weighted([['new', 3], ['open', 4], ['solved', 2], ['closed', 1]]);
    const agent = d.pick(agents);
    const due = dueTimes(policy, { createdAt: new Date(created), priority, slaPausedMinutes: 0 });
    const firstDue = due.firstResponseDueAt!.getTime();
    const resolutionDue = due.resolutionDueAt!.getTime();
    // most answers come within the target, some late
    const responded = status === 'new' ? null : created + Math.floor((firstDue - created) * d.unit() * (d.chance(0.85) ? 1 : 3));
    const solved = status === 'solved' || status === 'closed'
      ? Math.max(responded! + MINUTE, created + Math.floor((resolutionDue - created) * d.unit() * (d.chance(0.8) ? 1 : 2.5)))
      : null;
    const closed = status === 'closed' ? solved! + d.int(1, 72) * 3600_000 : null;
    const lastChange = Math.min(w.until - 1, closed ?? solved ?? responded ?? created);
    const firstBreach = (responded ?? w.until) > firstDue && firstDue < w.until ? firstDue : null;
    const resolutionBreach = (solved ?? w.until) > resolutionDue && resolutionDue < w.until ? resolutionDue : null;
    const subject = d.pick(SUBJECTS);
    const description = d.en.lorem.sentences(2);
    const rating = solved !== null && d.chance(0.5) ? { score: d.weighted([[5, 5], [4, 3], [3, 1], [2, 1], [1, 1]]), at: new Date(solved + 3600_000) } : undefined;
    const replies: GeneratedTicket['replies'] = [];
    if (responded !== null) {
      replies.push({ at: new Date(responded), body: d.en.lorem.sentence(), visibility: 'public', authorType: 'user', authorId: agent.id });
      if (d.chance(0.5)) replies.push({ at: new Date(responded + 3600_000), body: d.en.lorem.sentence(), visibility: 'public', authorType: 'contact', authorId: requester });
      if (d.chance(0.3)) replies.push({ at: new Date(responded + 7200_000), body: d.en.lorem.sentence(), visibility: 'internal', authorType: 'user', authorId: agent.id });
    }
    yield {
      replies,
      rating,
      row: {
        id: idOf(w, 'ticket', i, w.scale.tickets), createdAt: new Date(created), updatedAt: new Date(Math.max(lastChange, rating?.at.getTime() ?? 0)),
        version: 1 + (responded !== null ? 1 : 0) + (solved !== null ? 1 : 0) + (closed !== null ? 1 : 0) + (rating ? 1 : 0), deletedAt: null,
        subject, description, status, priority, channel: d.pick(CHANNELS), requesterId: requester,
        assigneeId: status === 'new' && d.chance(0.5) ? null : agent.id, teamId: agent.teamIds[0] ?? null, slaPolicyId: policy.id,
        firstResponseDueAt: due.firstResponseDueAt, resolutionDueAt: due.resolutionDueAt,
        firstRespondedAt: responded === null ? null : new Date(responded), solvedAt: solved === null ? null : new Date(solved),
        closedAt: closed === null ? null : new Date(closed), slaBreached: firstBreach !== null || resolutionBreach !== null,
        firstResponseBreachedAt: firstBreach === null ? null : new Date(firstBreach),
        resolutionBreachedAt: resolutionBreach === null ? null : new Date(resolutionBreach),
        slaPausedAt: null, slaPausedMinutes: 0,
        satisfactionScore: rating?.score ?? null, satisfactionComment: null, satisfactionAt: rating?.at ?? null,
        tags: [], custom: {}, searchText: ticketSearchText({ subject, description }),
        businessCalendar: calendarId, businessFirstResponseMinutes: businessMinutes(created, responded),
        businessFirstResponseFor: responded === null ? null : new Date(responded),
        businessResolutionMinutes: businessMinutes(created, solved), businessResolutionFor: solved === null ? null : new Date(solved),
      },
    };
  }
}

export function* ticketRows(w: World, policy: SlaPolicyRow) {
  for (const t of generatedTickets(w, policy)) yield t.row;
}

export function* ticketCommentRows(w: World, policy: SlaPolicyRow) {
  for (const [i, t] of enumerate(generatedTickets(w, policy))) {
    for (const [k, r] of t.replies.entries()) {
      yield {
        id: uuidV7At(r.at.getTime(), w.seed, 'comment', i * 4 + k), createdAt: r.at, updatedAt: r.at, version: 1, deletedAt: null,
        ticketId: t.row.id, body: r.body, visibility: r.visibility, authorType: r.authorType, authorId: r.authorId,
      };
    }
  }
}

/** a CSAT answer of the requester for each rated ticket (what POST /tickets/:id/satisfaction writes) */
export function* satisfactionFeedbackRows(w: World, policy: SlaPolicyRow) {
  for (const [i, t] of enumerate(generatedTickets(w, policy))) {
    if (!t.rating) continue;
    yield {
      id: uuidV7At(t.rating.at.getTime(), w.seed, 'feedback', i), createdAt: t.rating.at, updatedAt: t.rating.at, version: 1, deletedAt: null,
      type: 'csat', score: t.rating.score, comment: null, contactId: t.row.requesterId, ticketId: t.row.id,
      ownerId: t.row.assigneeId, teamId: (t.row.teamId as string | null) ?? null,
    };
  }
}

export function* enumerate<T>(items: Iterable<T>): Generator<[number, T]> {
  let i = 0;
  for (const item of items) yield [i++, item];
}
