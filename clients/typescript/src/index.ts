// The TypeScript client of the headless CRM: types generated from openapi.yaml, the openapi-fetch
// client, and the helpers API.md asks of a careful caller (paging, idempotent retries, webhook signatures).
export { createCrmClient, type CrmClient, type CrmClientOptions } from './client.js';
export { CrmApiError, type Problem, type ProblemCode, toCrmApiError, unwrap } from './errors.js';
export { IDEMPOTENCY_HEADER, newIdempotencyKey } from './idempotency.js';
export type { PageArgs, PageItem, PageParams, PageQuery, PagedPath } from './pagination.js';
export type { RetryOptions } from './retry.js';
export {
  DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, type SignatureCheck, type SignatureFailure, type VerifyOptions,
  type WebhookEvent, WebhookSignatureError, parseWebhookEvent, verifyWebhookSignature,
} from './webhooks.js';
export type { components, operations, paths } from './generated/openapi.js';

/** A record type of the contract by its schema name: `Schema<'Contact'>`. */
export type Schema<Name extends keyof import('./generated/openapi.js').components['schemas']> =
  import('./generated/openapi.js').components['schemas'][Name];
