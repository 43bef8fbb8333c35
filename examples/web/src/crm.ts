import { createCrmClient } from '../../../clients/typescript/src/client.js';
import type { components } from '../../../clients/typescript/src/generated/openapi.js';
import { currentSession } from './session.js';

// The typed client of clients/typescript (its client and errors only: the page verifies no webhooks).
// The API is on this page's origin (Vite forwards /v1 to the CRM) unless the build was given
// VITE_CRM_API_URL; the token is read before every request.

export { CrmApiError, unwrap } from '../../../clients/typescript/src/errors.js';

/** A record type of the contract by its schema name, e.g. `Schema<'Deal'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

export const crm = createCrmClient({
  baseUrl: import.meta.env.VITE_CRM_API_URL || window.location.origin,
  token: () => currentSession()?.accessToken,
});
