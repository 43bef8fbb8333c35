import type { Schema } from '../../clients/typescript/src/index.js';

// The store's export format (a Shopify-like JSON: customers and orders keyed by the store's ids) and
// how each record becomes a CRM record. The store's ids become external ids, the upsert keys, so
// sending a record twice updates it instead of creating a second one.

export const SYSTEM = 'shop';

export interface StoreCustomer {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  accepts_marketing: boolean;
  tags: string[];
}

export interface StoreOrder {
  id: string;
  customer_id: string;
  financial_status: 'pending' | 'paid' | 'fulfilled' | 'refunded' | 'cancelled';
  currency: string;
  total_price: string;
  created_at: string;
  line_items: { sku: string; title: string; quantity: number; price: string }[];
}

export interface StoreExport {
  shop: string;
  customers: StoreCustomer[];
  orders: StoreOrder[];
}

export function toContact(c: StoreCustomer, shop: string): Schema<'ContactCreateInput'> {
  return {
    externalIds: { [SYSTEM]: c.id },
    email: c.email,
    firstName: c.first_name,
    lastName: c.last_name,
    tags: c.tags,
    lifecycleStage: 'customer',
    source: shop,
    emailOptIn: c.accepts_marketing,
  };
}

/** The order as the CRM keeps it; `contactId` is the CRM id the contact upsert answered. */
export function toOrder(o: StoreOrder, contactId: string): Schema<'OrderCreateInput'> {
  return {
    externalId: `${SYSTEM}-${o.id}`,
    contactId,
    status: o.financial_status,
    total: o.total_price,
    currency: o.currency,
    placedAt: o.created_at,
    lines: o.line_items.map((l) => ({ sku: l.sku, name: l.title, quantity: l.quantity, unitPrice: l.price })),
  };
}
