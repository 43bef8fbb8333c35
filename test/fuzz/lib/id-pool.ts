import { randomUUID } from 'node:crypto';

// Ids of records that exist, so generated requests reach real rows: path parameters and reference
// fields (companyId, pipelineId, stageId…) are drawn from here most of the time, random otherwise.
// Ids are filed under the collection path that made or listed them (`/v1/contacts`).

/** reference field or path parameter name → the collection its ids come from */
const COLLECTION_OF: Record<string, string> = {
  companyId: '/v1/companies', contactId: '/v1/contacts', requesterId: '/v1/contacts', primaryId: '/v1/contacts',
  duplicateIds: '/v1/contacts', contactIds: '/v1/contacts', dealId: '/v1/deals', leadId: '/v1/leads',
  ticketId: '/v1/tickets', pipelineId: '/v1/pipelines', stageId: 'stages', segmentId: '/v1/segments',
  campaignId: '/v1/campaigns', workflowId: '/v1/workflows', ownerId: '/v1/users', assigneeId: '/v1/users',
  userId: '/v1/users', actorId: '/v1/users', createdBy: '/v1/users', teamId: '/v1/teams', teamIds: '/v1/teams',
  memberIds: '/v1/users', slaPolicyId: '/v1/sla-policies', orderId: '/v1/orders', webhookId: '/v1/webhooks',
  entityId: '/v1/contacts',
};

export class IdPool {
  private readonly byCollection = new Map<string, string[]>();
  private readonly every: string[] = [];

  add(collection: string, id: unknown): void {
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) return;
    const list = this.byCollection.get(collection) ?? [];
    if (list.includes(id)) return;
    list.push(id);
    this.byCollection.set(collection, list);
    this.every.push(id);
  }

  /** the collection a field or parameter named `name` refers to, if known */
  static collectionOf(name: string): string | undefined {
    return COLLECTION_OF[name];
  }

  /** the n-th id of a collection (wrapping), else of any collection, else a fresh random one */
  pick(collection: string | undefined, n: number): string {
    const list = (collection && this.byCollection.get(collection)) || this.every;
    return list.length ? (list[n % list.length] as string) : randomUUID();
  }

  count(collection: string): number {
    return this.byCollection.get(collection)?.length ?? 0;
  }
}
