import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { setEtag, ifMatchVersion } from '../../platform/http/etag.js';
import { listQuerySchema, toListParams } from '../../platform/http/list-query.js';
import { NoContent, withProblems } from '../../platform/http/problem.schema.js';
import { ScoringRule, ScoringRuleCreate, ScoringRuleId, ScoringRuleList, ScoringRulePatch } from './scoring-rule.schema.js';
import { scoringRuleFilterable, scoringRuleSortable } from './scoring-rule.repository.js';
import type { ScoringRuleService } from './scoring-rule.service.js';

const listOptions = { sortable: scoringRuleSortable, filterable: scoringRuleFilterable };
const tags = ['scoring-rules'];

/** How lead scores are computed (API.md §5): every role reads, admin and manager write (resource `config`). */
export const scoringRuleRoutes: FastifyPluginAsyncZod<{ rules: ScoringRuleService }> = async (app, { rules }) => {
  app.get('/scoring-rules', {
    schema: { tags, operationId: 'listScoringRules', summary: 'List scoring rules', querystring: listQuerySchema(listOptions).omit({ fields: true }), response: withProblems({ 200: ScoringRuleList }) },
  }, async (req) => {
    const page = await rules.list(contextOf(req), toListParams(req.query));
    return { data: page.items, nextCursor: page.nextCursor };
  });

  app.post('/scoring-rules', {
    schema: { tags, operationId: 'createScoringRule', summary: 'Create a scoring rule (rescores every open lead)', body: ScoringRuleCreate, response: withProblems({ 201: ScoringRule }) },
  }, async (req, reply) => {
    const rule = await rules.create(contextOf(req), req.body);
    setEtag(reply, rule);
    return reply.code(201).header('location', `/v1/scoring-rules/${rule.id}`).send(rule);
  });

  app.get('/scoring-rules/:id', {
    schema: { tags, operationId: 'getScoringRule', summary: 'Read a scoring rule', params: ScoringRuleId, response: withProblems({ 200: ScoringRule }) },
  }, async (req, reply) => {
    const rule = await rules.get(contextOf(req), req.params.id);
    setEtag(reply, rule);
    return rule;
  });

  app.patch('/scoring-rules/:id', {
    schema: { tags, operationId: 'updateScoringRule', summary: 'Change a scoring rule (JSON merge patch; If-Match optional; rescores every open lead)', params: ScoringRuleId, body: ScoringRulePatch, response: withProblems({ 200: ScoringRule }) },
  }, async (req, reply) => {
    const rule = await rules.update(contextOf(req), req.params.id, req.body, ifMatchVersion(req));
    setEtag(reply, rule);
    return rule;
  });

  app.delete('/scoring-rules/:id', {
    schema: { tags, operationId: 'deleteScoringRule', summary: 'Delete a scoring rule (soft; rescores every open lead)', params: ScoringRuleId, response: withProblems({ 204: NoContent }) },
  }, async (req, reply) => {
    await rules.remove(contextOf(req), req.params.id);
    return reply.code(204).send(null);
  });
};
