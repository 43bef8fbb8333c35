import { z } from 'zod';
import { Contact } from './contact.schema.js';

// The GDPR export is one JSON document; its known parts are typed, and parts other modules add
// (pipeline, tickets) are passed through as they come.
export const ContactExport = z
  .object({
    exportedAt: z.string().describe('when this document was made'),
    contact: Contact,
    mergedContacts: z.array(Contact).describe('contacts merged into this one: the same person'),
    consent: z.object({
      emailOptIn: z.boolean(), emailOptInAt: z.string().nullable(),
      smsOptIn: z.boolean(), smsOptInAt: z.string().nullable(), consentSource: z.string().nullable(),
    }),
    activities: z.array(z.record(z.string(), z.unknown())),
    orders: z.array(z.record(z.string(), z.unknown())),
    loyalty: z.object({ balance: z.number().int(), transactions: z.array(z.record(z.string(), z.unknown())) }),
    feedback: z.array(z.record(z.string(), z.unknown())),
    history: z.array(z.record(z.string(), z.unknown())).describe('audit log of the contact records: every change, by whom and when'),
  })
  .catchall(z.unknown())
  .describe('Everything held about the person. Other modules add their parts: `pipeline` {leads, deals}, `service` {tickets}.')
  .meta({ id: 'ContactExport' });

export type ContactExportDto = z.infer<typeof ContactExport>;

export const ContactErasure = z
  .object({
    id: z.string().describe('the erased contact'),
    erasedAt: z.string(),
    contactIds: z.array(z.string()).describe('the contact and those merged into it, all erased'),
    records: z.int().describe('records whose personal data was removed (contacts, activities, feedback, leads, tickets…)'),
    auditRows: z.int().describe('audit rows whose personal values were replaced by their sealed digests'),
    events: z.int().describe('change-feed events whose personal values were removed'),
  })
  .meta({ id: 'ContactErasure' });
