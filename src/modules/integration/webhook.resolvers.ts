import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { type GraphqlListArgs, listParamsFromGraphql, toConnection } from '../../platform/graphql/collection.js';
import type { WebhookService } from './webhook.service.js';

type Ctx = Parameters<typeof callerOf>[0];

/** GraphQL over the same WebhookService as REST: same permissions, validation and errors. */
export function webhookResolvers(webhooks: WebhookService): IResolvers {
  return {
    Query: {
      webhook: (_: unknown, a: { id: string }, ctx: Ctx) => webhooks.get(callerOf(ctx), a.id),
      webhooks: async (_: unknown, a: GraphqlListArgs, ctx: Ctx) => toConnection(await webhooks.list(callerOf(ctx), listParamsFromGraphql(a))),
      webhookDeliveries: async (_: unknown, a: GraphqlListArgs & { webhookId: string }, ctx: Ctx) =>
        toConnection(await webhooks.deliveries(callerOf(ctx), a.webhookId, listParamsFromGraphql(a))),
    },
    Mutation: {
      createWebhook: (_: unknown, a: { input: unknown }, ctx: Ctx) => webhooks.create(callerOf(ctx), plain(a.input)),
      updateWebhook: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        webhooks.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteWebhook: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await webhooks.remove(callerOf(ctx), a.id);
        return true;
      },
      restoreWebhook: (_: unknown, a: { id: string }, ctx: Ctx) => webhooks.restore(callerOf(ctx), a.id),
      rotateWebhookSecret: (_: unknown, a: { id: string; overlapMinutes?: number | null; secret?: string | null }, ctx: Ctx) =>
        webhooks.rotateSecret(callerOf(ctx), a.id, {
          ...(a.overlapMinutes != null ? { overlapMinutes: a.overlapMinutes } : {}), ...(a.secret != null ? { secret: a.secret } : {}),
        }),
      redeliverWebhookDelivery: (_: unknown, a: { webhookId: string; deliveryId: string }, ctx: Ctx) =>
        webhooks.redeliver(callerOf(ctx), a.webhookId, a.deliveryId),
    },
  } as IResolvers;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
