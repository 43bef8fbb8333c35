import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import { subscriptionError } from '../../platform/graphql/subscriptions.js';
import type { LiveChanges, LivePubSub, RecordChangedArgs, SubscriberQueue } from './subscription.service.js';

interface SubscriptionCtx {
  requestContext?: Parameters<typeof callerOf>[0]['requestContext'];
  /** this subscription's queue */
  pubsub: SubscriberQueue;
  app: { graphql: { pubsub: LivePubSub } };
}

/**
 * `Subscription.recordChanged`: the caller was authenticated when the WebSocket connected; bad
 * arguments fail the subscription at once with the same extensions as a query's error.
 */
export function subscriptionResolvers(live: LiveChanges): IResolvers {
  return {
    Subscription: {
      recordChanged: {
        subscribe: (_: unknown, a: RecordChangedArgs, ctx: SubscriptionCtx) => {
          try {
            return live.subscribe(callerOf(ctx).actor, a, ctx.pubsub, ctx.app.graphql.pubsub);
          } catch (e) {
            throw subscriptionError(e);
          }
        },
      },
    },
  } as unknown as IResolvers;
}
