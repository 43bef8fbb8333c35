import { GraphQLError, Kind, NoSchemaIntrospectionCustomRule, type ASTVisitor, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';

export interface GraphqlLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxRootFields: number;
  production: boolean;
}

/** Counts root fields, following fragment spreads and inline fragments at the root. */
function maxRootFieldsRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const count = (set: SelectionSetNode, seen: Set<string>): number =>
      set.selections.reduce((n, s) => {
        if (s.kind === Kind.FIELD) return n + 1;
        if (s.kind === Kind.INLINE_FRAGMENT) return n + count(s.selectionSet, seen);
        if (seen.has(s.name.value)) return n;
        seen.add(s.name.value);
        const frag = context.getFragment(s.name.value);
        return frag ? n + count(frag.selectionSet, seen) : n;
      }, 0);
    return {
      OperationDefinition(node) {
        const n = count(node.selectionSet, new Set());
        if (n > max) context.reportError(new GraphQLError(`Too many root fields: ${n}, at most ${max}`, { nodes: [node] }));
      },
    };
  };
}

/**
 * Validation rules run after parsing and before any resolver, so an abusive query costs a parse and
 * a walk of its AST, nothing more. Fragments are flattened, so they cannot hide depth or cost.
 */
export function limitRules(l: GraphqlLimits): ValidationRule[] {
  const rules: ValidationRule[] = [
    maxDepthRule({ n: l.maxDepth, flattenFragments: true, ignoreIntrospection: !l.production, exposeLimits: true }) as unknown as ValidationRule,
    maxAliasesRule({ n: l.maxAliases, exposeLimits: true }) as unknown as ValidationRule,
    costLimitRule({ maxCost: l.maxCost, flattenFragments: true, ignoreIntrospection: !l.production, exposeLimits: true }) as unknown as ValidationRule,
    maxDirectivesRule({ n: 20, exposeLimits: true }) as unknown as ValidationRule,
    maxRootFieldsRule(l.maxRootFields),
  ];
  if (l.production) rules.push(NoSchemaIntrospectionCustomRule);
  return rules;
}
