// A few lines instead of a framework: elements are built with h(), and text always goes in as text
// nodes, so nothing the API returns is ever parsed as HTML.

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces everything inside `el`. */
export function show(el: HTMLElement, ...children: (Child | Child[])[]): void {
  el.replaceChildren(...h('div', {}, ...children).childNodes);
}

/** `{ SAR: "1200.0000" }` → "SAR 1,200.00"; money stays a decimal string until it is shown. */
export function money(amount: string | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) return '—';
  const n = Number(amount);
  const text = Number.isFinite(n) ? n.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : amount;
  return currency ? `${currency} ${text}` : text;
}

export function moneyByCurrency(totals: Record<string, string> | undefined): string {
  const entries = Object.entries(totals ?? {});
  return entries.length ? entries.map(([currency, amount]) => money(amount, currency)).join(' + ') : '—';
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) : '—';
}
