// How many rows of each kind a seed writes. One number (contacts) sets the rest in the proportions of
// the performance issue's default scale: 1 M contacts, 100 k companies, 500 k deals, 1 M activities,
// 200 k tickets, 1 M orders.

export interface Scale {
  contacts: number;
  companies: number;
  leads: number;
  deals: number;
  activities: number;
  tickets: number;
  orders: number;
  campaigns: number;
}

export function scaleFor(contacts: number): Scale {
  const of = (ratio: number) => Math.max(1, Math.round(contacts * ratio));
  return {
    contacts,
    companies: of(0.1),
    leads: of(0.1),
    deals: of(0.5),
    activities: of(1),
    tickets: of(0.2),
    orders: of(1),
    campaigns: Math.min(12, Math.max(3, Math.round(Math.log10(Math.max(contacts, 10)) * 2))),
  };
}

export const totalRows = (s: Scale) => s.contacts + s.companies + s.leads + s.deals + s.activities + s.tickets + s.orders;
