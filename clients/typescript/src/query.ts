import qs from 'qs';

/**
 * The CRM reads nested brackets (`filter[custom.tier][eq]=gold`, API.md §2); openapi-fetch's own
 * serializer writes one level only, so qs (which the server parses with) writes the query.
 */
export function serializeQuery(query: Record<string, unknown>): string {
  return qs.stringify(query, { encodeValuesOnly: true, skipNulls: true });
}
