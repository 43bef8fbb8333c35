import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contextOf } from '../../platform/auth/authenticate.js';
import { withProblems } from '../../platform/http/problem.schema.js';
import { ContactId } from './contact.schema.js';
import { ContactErasure, ContactExport, type ContactExportDto } from './gdpr.schema.js';
import type { GdprService } from './gdpr.service.js';

const tags = ['contacts'];

export const gdprRoutes: FastifyPluginAsyncZod<{ gdpr: GdprService }> = async (app, { gdpr }) => {
  app.get('/contacts/:id/export', {
    schema: {
      tags, operationId: 'exportContactData', params: ContactId, response: withProblems({ 200: ContactExport }),
      summary: 'GDPR export: everything held about the person as one JSON document (admin and manager; audited)',
    },
  }, async (req) => (await gdpr.export(contextOf(req), req.params.id)) as ContactExportDto);

  app.post('/contacts/:id/erase', {
    schema: {
      tags, operationId: 'eraseContactData', params: ContactId, response: withProblems({ 200: ContactErasure }),
      summary: 'GDPR erasure: removes the person\'s personal data everywhere, keeps non-personal aggregates (admin; irreversible)',
    },
  }, async (req) => gdpr.erase(contextOf(req), req.params.id));
};
