import type { ActivityInsert, ActivityType } from '../modules/customer/activity.table.js';
import { activitySearchText } from '../modules/customer/activity.repository.js';
import { Draw } from './draw.js';
import { DAY, type World, companyId, contactBefore, contactCompanyIndex, contactId, createdAtOf, idOf, usersOf } from './world.js';

// Calls, emails, meetings, notes and tasks with the contacts (and their companies) of the time.

const TYPES = [['call', 4], ['email', 5], ['meeting', 2], ['note', 3], ['task', 3], ['sms', 1], ['chat', 1], ['visit', 1]] as const;
const SUBJECTS: Record<string, string[]> = {
  call: ['Discovery call', 'Follow-up call', 'مكالمة متابعة', 'Renewal call'],
  email: ['Sent the proposal', 'Quotation follow-up', 'عرض سعر', 'Welcome email'],
  meeting: ['Demo at their office', 'Quarterly review', 'اجتماع مراجعة العقد'],
  note: ['Prefers WhatsApp', 'Budget approved for Q3', 'يفضل التواصل مساءً'],
  task: ['Send contract', 'Prepare quotation', 'Call back after Eid', 'تجهيز العرض'],
  sms: ['Delivery reminder', 'تذكير بالموعد'],
  chat: ['Asked about delivery times', 'سؤال عن الضمان'],
  visit: ['Visited the showroom', 'زيارة الفرع'],
};
const DIRECTED = new Set<ActivityType>(['call', 'email', 'sms', 'chat']);

export function* activityRows(w: World): Generator<ActivityInsert> {
  const d = new Draw(w.seed, 'activity');
  const owners = usersOf(w, 'sales', 'support', 'manager');
  for (let i = 0; i < w.scale.activities; i++) {
    const at = createdAtOf(w, 'activity', i, w.scale.activities);
    d.at(i);
    const contact = contactBefore(w, at, d.unit());
    const company = contactCompanyIndex(w, contact);
    const type: ActivityType = d.weighted(TYPES);
    const subject = d.pick(SUBJECTS[type]!);
    const body = d.chance(0.5) ? d.en.lorem.sentence() : null;
    const due = type === 'task' ? at + d.int(1, 14) * DAY : null;
    const owner = d.pick(owners);
    yield {
      id: idOf(w, 'activity', i, w.scale.activities), createdAt: new Date(at), updatedAt: new Date(at), version: 1, deletedAt: null,
      type, subject, body, direction: DIRECTED.has(type) ? d.pick(['inbound', 'outbound'] as const) : null, occurredAt: new Date(at),
      dueAt: due === null ? null : new Date(due), completedAt: due !== null && due < w.until && d.chance(0.7) ? new Date(due) : null,
      contactId: contactId(w, contact), companyId: company === undefined ? null : companyId(w, company),
      dealId: null, leadId: null, ticketId: null, ownerId: owner.id, teamId: owner.teamIds[0] ?? null,
      searchText: activitySearchText({ subject, body }),
    };
  }
}
