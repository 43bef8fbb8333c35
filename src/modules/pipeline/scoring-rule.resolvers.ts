import type { IResolvers } from 'mercurius';
import { callerOf } from '../../platform/graphql/index.js';
import type { ScoringRuleService } from './scoring-rule.service.js';

type Ctx = Parameters<typeof callerOf>[0];

/** GraphQL over the same ScoringRuleService as REST: same permissions, validation and errors. */
export function scoringRuleResolvers(rules: ScoringRuleService): IResolvers {
  return {
    Query: {
      scoringRules: (_: unknown, _a: unknown, ctx: Ctx) => rules.all(callerOf(ctx)),
      scoringRule: (_: unknown, a: { id: string }, ctx: Ctx) => rules.get(callerOf(ctx), a.id),
    },
    Mutation: {
      createScoringRule: (_: unknown, a: { input: unknown }, ctx: Ctx) => rules.create(callerOf(ctx), plain(a.input)),
      updateScoringRule: (_: unknown, a: { id: string; input: unknown; expectedVersion?: number | null }, ctx: Ctx) =>
        rules.update(callerOf(ctx), a.id, plain(a.input), a.expectedVersion ?? undefined),
      deleteScoringRule: async (_: unknown, a: { id: string }, ctx: Ctx) => {
        await rules.remove(callerOf(ctx), a.id);
        return true;
      },
    },
  } as IResolvers;
}

/** graphql-js builds input objects without a prototype; zod and JSON merge patch want plain ones. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
