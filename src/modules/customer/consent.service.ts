import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { systemContext } from '../../platform/auth/actor.js';
import { validationFailed } from '../../platform/errors/app-error.js';
import { emit } from '../../platform/events/outbox.js';
import { toContactDto } from './contact.schema.js';
import type { ContactRow } from './contact.table.js';
import { lockContact } from './contact.repository.js';
import type { ContactService } from './contact.service.js';
import { type ConsentChannel, signUnsubscribeToken, unsubscribeKey, verifyUnsubscribeToken } from './consent-token.js';

export interface ConsentServiceDeps {
  db: Executor;
  contacts: Pick<ContactService, 'patchIn'>;
  /** the service's signing secret (JWT_SECRET, or the development one); read on first use */
  secret: () => string;
}

/** Where an unsubscribe request came from, for the audit row. */
export interface UnsubscribeRequest {
  requestId: string;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export interface UnsubscribeResult {
  unsubscribed: true;
  channel: ConsentChannel;
}

export const UNSUBSCRIBE_SOURCE = 'unsubscribe_link';
const FLAG = { email: 'emailOptIn', sms: 'smsOptIn' } as const;
/** merges chain at most this deep before we stop following mergedIntoId */
const MAX_MERGE_HOPS = 10;

/**
 * Consent beyond the contact's own fields (which the contact service keeps, with their timestamps):
 * signed unsubscribe links for campaigns, and the open endpoint they point at.
 */
export function createConsentService(deps: ConsentServiceDeps) {
  let key: Buffer | undefined;
  const keyOf = () => (key ??= unsubscribeKey(deps.secret()));

  /** The live contact a token's id now means, locked: a merged contact's link unsubscribes the survivor. */
  async function lockTarget(tx: Executor, contactId: string): Promise<ContactRow | undefined> {
    let row = await lockContact(tx, contactId);
    for (let hop = 0; row?.deletedAt && row.mergedIntoId && hop < MAX_MERGE_HOPS; hop++) row = await lockContact(tx, row.mergedIntoId);
    return row && !row.deletedAt ? row : undefined;
  }

  return {
    /** The token of an unsubscribe link (campaigns build `…/v1/unsubscribe?token=<this>`). It never expires. */
    unsubscribeToken(contactId: string, channel: ConsentChannel): string {
      return signUnsubscribeToken(keyOf(), contactId, channel);
    },

    /**
     * Opts the token's contact out of the channel, as the system (the link's holder has no account),
     * audited and emitted like any contact update plus `contact.unsubscribed`. Idempotent: a contact
     * already opted out, deleted or erased is left as it is and the answer is the same.
     */
    async unsubscribe(token: string, from: UnsubscribeRequest): Promise<UnsubscribeResult> {
      const claims = verifyUnsubscribeToken(keyOf(), token);
      if (!claims) throw validationFailed([{ path: 'token', message: 'is not a valid unsubscribe token' }], 'The unsubscribe link is not valid');
      const flag = FLAG[claims.channel];
      const ctx = { ...systemContext(from.requestId), ip: from.ip, userAgent: from.userAgent };
      await inTransaction(deps.db, async (tx) => {
        const current = await lockTarget(tx, claims.contactId);
        if (!current?.[flag]) return;
        const after = await deps.contacts.patchIn(tx, ctx, current.id, { [flag]: false, consentSource: UNSUBSCRIBE_SOURCE });
        await emit(tx, ctx, {
          type: 'contact.unsubscribed', entityType: 'contact', entityId: current.id, before: toContactDto(current), after,
        });
      });
      return { unsubscribed: true, channel: claims.channel };
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
