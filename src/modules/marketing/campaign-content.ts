import type { FieldError } from '../../platform/errors/app-error.js';

// What a campaign message says: placeholders filled per recipient (HTML-escaped), links rewritten
// through click tracking, an open pixel and an unsubscribe link added.

/** `{{firstName}}`, `{{ custom.tier }}`: a name of letters, digits, `_` and one optional `custom.` prefix. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\}\}/g;
const CONTACT_FIELDS = ['firstName', 'lastName', 'email', 'phone', 'jobTitle'] as const;
const UNSUBSCRIBE = 'unsubscribeUrl';
/** double- or single-quoted absolute http(s) hrefs; anything else (mailto:, #top, relative) is left alone */
const HREF = /(\bhref\s*=\s*)(["'])(https?:\/\/[^"'\s<>]+)\2/gi;

export interface Recipient {
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  jobTitle: string | null;
  custom: Record<string, unknown>;
}

export function escapeHtml(v: string): string {
  return v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * Every placeholder of subject and content must name a contact field, `custom.<key>` of a defined
 * custom field, or `unsubscribeUrl` (content only): a typo fails on save, not in 10,000 inboxes.
 */
export function checkPlaceholders(texts: { subject?: string | null; content?: string | null }, isCustomField: (key: string) => boolean): FieldError[] {
  const errors: FieldError[] = [];
  for (const [path, text] of Object.entries(texts)) {
    if (!text) continue;
    for (const m of text.matchAll(PLACEHOLDER)) {
      const name = m[1] as string;
      const ok = (CONTACT_FIELDS as readonly string[]).includes(name)
        || (name === UNSUBSCRIBE && path === 'content')
        || (name.startsWith('custom.') && isCustomField(name.slice(7)));
      if (!ok) errors.push({ path, message: `{{${name}}} is not a contact field, a defined custom.<key> or unsubscribeUrl` });
    }
  }
  return errors;
}

/** The campaign's own links, in order of first appearance: the only places a click may lead. */
export function linksOf(content: string | null): string[] {
  if (!content) return [];
  const out = new Set<string>();
  for (const m of content.matchAll(HREF)) {
    const url = m[3] as string;
    if (!url.includes('{{')) out.add(decodeEntities(url));
  }
  return [...out];
}

/** hrefs carry HTML-encoded text (`&amp;` between query parameters): the link is the decoded URL. */
function decodeEntities(s: string): string {
  return s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

function valueOf(r: Recipient, name: string, unsubscribeUrl: string): string {
  if (name === UNSUBSCRIBE) return unsubscribeUrl;
  if (name.startsWith('custom.')) {
    const v = r.custom[name.slice(7)];
    return v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v);
  }
  return r[name as (typeof CONTACT_FIELDS)[number]] ?? '';
}

export interface RenderLinks {
  unsubscribeUrl: string;
  /** absent: no open tracking (a workflow's one-off mail) */
  openPixelUrl?: string | undefined;
  /** the tracked form of one of the campaign's links */
  clickUrl: (link: string) => string;
}

/** The subject as plain text: values as they are, line breaks removed (it is a header). */
export function renderSubject(subject: string, r: Recipient): string {
  return subject.replace(PLACEHOLDER, (_, name: string) => valueOf(r, name, '')).replace(/[\r\n]+/g, ' ').trim();
}

/** The HTML body for one recipient: escaped values, tracked links, an unsubscribe link, the open pixel. */
export function renderContent(content: string, r: Recipient, links: RenderLinks): string {
  let html = content.replace(HREF, (whole, prefix: string, quote: string, url: string) =>
    url.includes('{{') ? whole : `${prefix}${quote}${escapeHtml(links.clickUrl(decodeEntities(url)))}${quote}`);
  const hasUnsubscribe = /\{\{\s*unsubscribeUrl\s*\}\}/.test(html);
  html = html.replace(PLACEHOLDER, (_, name: string) => escapeHtml(valueOf(r, name, links.unsubscribeUrl)));
  const footer = (hasUnsubscribe ? '' : `<p style="font-size:12px"><a href="${escapeHtml(links.unsubscribeUrl)}">Unsubscribe</a></p>`)
    + (links.openPixelUrl ? `<img src="${escapeHtml(links.openPixelUrl)}" width="1" height="1" alt="" style="display:block;border:0">` : '');
  return /<\/body>/i.test(html) ? html.replace(/<\/body>/i, `${footer}</body>`) : html + footer;
}
