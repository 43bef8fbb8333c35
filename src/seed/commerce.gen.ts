import type { OrderInsert, OrderStatus } from '../modules/customer/order.table.js';
import { Draw } from './draw.js';
import { uuidV7At } from './keys.js';
import { fromMinor, minorDigits, minorOf } from './money.js';
import { hasShopId } from './customers.gen.js';
import { DAY, type World, contactBefore, contactCreatedAt, contactCurrency, contactId, createdAtOf, idOf, trait } from './world.js';

// Orders with their lines (the total is Σ quantity × unitPrice exactly, in the currency's minor
// units, as the order service demands), the loyalty points web-shop customers earned on them, and
// NPS answers.

const PRODUCTS: [sku: string, name: string, price: number][] = [
  ['ABY-001', 'Abaya, black crepe', 450], ['OUD-050', 'Oud perfume 50 ml', 320], ['DAT-1KG', 'Medjool dates 1 kg', 85],
  ['COF-ARB', 'Arabic coffee 500 g', 60], ['PHN-CASE', 'Phone case', 45], ['HDP-200', 'Wireless headphones', 699],
  ['PRY-MAT', 'Prayer mat', 120], ['TEA-KRK', 'Karak tea mix', 25], ['SNK-RUN', 'Running shoes', 380], ['WCH-SMT', 'Smart watch', 1250],
];
const STATUSES = [['fulfilled', 10], ['paid', 3], ['pending', 1], ['cancelled', 1], ['refunded', 1]] as const;

interface GeneratedOrder { row: OrderInsert; contactIndex: number; lines: { sku: string; name: string; quantity: string; unitPrice: string }[] }

export function* generatedOrders(w: World): Generator<GeneratedOrder> {
  const d = new Draw(w.seed, 'order');
  for (let i = 0; i < w.scale.orders; i++) {
    const placed = createdAtOf(w, 'order', i, w.scale.orders);
    d.at(i);
    const contactIndex = contactBefore(w, placed, d.unit());
    const currency = contactCurrency(w, contactIndex);
    const lines = Array.from({ length: d.int(1, 3) }, () => {
      const [sku, name, price] = d.pick(PRODUCTS);
      // prices in the currency's own units; KWD prices end in fils (3 decimals)
      const unit = minorOf(price * (currency === 'KWD' ? 0.081 : currency === 'AED' ? 0.98 : currency === 'SAR' ? 1 : 0.25), currency)
        + (minorDigits(currency) === 3 ? d.int(1, 9) : 0);
      return { sku, name, quantity: d.int(1, 3), unit };
    });
    const total = lines.reduce((s, l) => s + l.quantity * l.unit, 0);
    const status: OrderStatus = w.until - placed < 3 * DAY ? d.weighted([['pending', 2], ['paid', 1]]) : d.weighted(STATUSES);
    yield {
      contactIndex,
      lines: lines.map((l) => ({ sku: l.sku, name: l.name, quantity: String(l.quantity), unitPrice: fromMinor(l.unit, currency) })),
      row: {
        id: idOf(w, 'order', i, w.scale.orders), createdAt: new Date(placed), updatedAt: new Date(placed), version: 1, deletedAt: null,
        externalId: `SO-${String(i + 1).padStart(8, '0')}`, contactId: contactId(w, contactIndex), status,
        total: fromMinor(total, currency), currency, placedAt: new Date(placed),
      },
    };
  }
}

export function* orderRows(w: World) {
  for (const o of generatedOrders(w)) yield o.row;
}

export function* orderLineRows(w: World) {
  let n = 0;
  for (const o of generatedOrders(w)) {
    for (const [position, l] of o.lines.entries()) {
      yield { id: uuidV7At((o.row.placedAt as Date).getTime(), w.seed, 'orderLine', n++), orderId: o.row.id!, position, ...l };
    }
  }
}

/** Whole points per paid order of a web-shop customer: one per unit of the currency (KWD counts ×10). */
const pointsOf = (total: string, currency: string) => Math.floor(Number(total) * (currency === 'KWD' ? 10 : 1));

/**
 * The ledger rows of earned points in time order, keeping each contact's running balance in
 * `balances` (the ledger's balance_after and the balances table must agree).
 */
export function* loyaltyRows(w: World, balances: Map<number, { balance: number; at: Date }>) {
  let n = 0;
  for (const o of generatedOrders(w)) {
    if (!hasShopId(w, o.contactIndex) || (o.row.status !== 'paid' && o.row.status !== 'fulfilled')) continue;
    const points = pointsOf(o.row.total, o.row.currency);
    if (points <= 0) continue;
    const at = o.row.placedAt as Date;
    const balance = (balances.get(o.contactIndex)?.balance ?? 0) + points;
    balances.set(o.contactIndex, { balance, at });
    yield {
      id: uuidV7At(at.getTime(), w.seed, 'loyalty', n++), contactId: o.row.contactId, points, reason: `Order ${o.row.externalId}`,
      orderId: o.row.id!, balanceAfter: balance, actorType: 'system', actorId: null, createdAt: at,
    };
  }
}

export function* loyaltyBalanceRows(w: World, balances: Map<number, { balance: number; at: Date }>) {
  for (const [contactIndex, b] of balances) yield { contactId: contactId(w, contactIndex), balance: b.balance, updatedAt: b.at };
}

/** NPS answers of one contact in five, some weeks after they joined */
export function* npsRows(w: World) {
  const d = new Draw(w.seed, 'feedback');
  for (let i = 0; i < w.scale.contacts; i++) {
    if (trait(w, 'contact', i, 10) >= 0.2) continue;
    const at = Math.min(w.until - 1, contactCreatedAt(w, i) + d.at(w.scale.tickets + i).int(7, 60) * DAY);
    yield {
      id: uuidV7At(at, w.seed, 'feedback', w.scale.tickets + i), createdAt: new Date(at), updatedAt: new Date(at), version: 1, deletedAt: null,
      type: 'nps', score: d.weighted([[10, 4], [9, 3], [8, 2], [7, 2], [6, 1], [5, 1], [3, 1], [0, 1]]),
      comment: d.chance(0.3) ? d.en.lorem.sentence() : null, contactId: contactId(w, i), ticketId: null, ownerId: null, teamId: null,
    };
  }
}
