import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { ContactParams, LoyaltyAccount, LoyaltyQuery, LoyaltyTransaction, LoyaltyTransactionCreate } from './loyalty.schema.js';
import type { LoyaltyService } from './loyalty.service.js';

const tags = ['contacts', 'loyalty'];

export const loyaltyRoutes: FastifyPluginAsyncZod<{ loyalty: LoyaltyService }> = async (app, { loyalty }) => {
  app.get('/contacts/:id/loyalty', {
    schema: {
      tags, operationId: 'getContactLoyalty', summary: "The contact's points balance and ledger, newest first: {contactId, balance, transactions: {data, nextCursor}}",
      params: ContactParams, querystring: LoyaltyQuery, response: withProblems({ 200: LoyaltyAccount }),
    },
  }, async (req) => {
    const account = await loyalty.account(contextOf(req), req.params.id, req.query);
    const { items, nextCursor } = account.transactions;
    return { contactId: account.contactId, balance: account.balance, transactions: { data: items, nextCursor } };
  });

  app.post('/contacts/:id/loyalty/transactions', {
    schema: {
      tags, operationId: 'createLoyaltyTransaction',
      summary: 'Earn (points > 0) or redeem (points < 0); 409 insufficient_points below 0; a second earn for the same order answers the first (200)',
      params: ContactParams, body: LoyaltyTransactionCreate, response: withProblems({ 200: LoyaltyTransaction, 201: LoyaltyTransaction }),
    },
  }, async (req, reply) => {
    const r = await loyalty.createTransaction(contextOf(req), req.params.id, req.body);
    return reply.code(r.created ? 201 : 200).send(r.transaction);
  });
};
