import http from 'node:http';
import https from 'node:https';
import { checkUrlStatically, guardedLookup } from './url-guard.js';

// One HTTP POST of one webhook delivery. node:http rather than fetch: its `lookup` hook lets the SSRF
// guard judge the very address the socket connects to (fetch resolves on its own, leaving a window
// for DNS rebinding between our check and its connection). Like fetch with redirect: 'manual', it
// never follows a redirect: a 3xx is a failed attempt.

export const USER_AGENT = 'headless-crm-webhooks/1';
export const DELIVERY_TIMEOUT_MS = 10_000;
const ERROR_BODY_BYTES = 512;

export interface SendOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
}

export interface SendOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** seconds the receiver asked us to wait (Retry-After on 429 or 503) */
  retryAfterSeconds: number | null;
}

export type Send = (url: string, body: string, headers: Record<string, string>, o: SendOptions) => Promise<SendOutcome>;

const failure = (error: string, statusCode: number | null = null, retryAfterSeconds: number | null = null): SendOutcome =>
  ({ ok: false, statusCode, error, retryAfterSeconds });

/** Retry-After as seconds (delta or HTTP date), capped at a day; null when absent or unreadable. */
export function retryAfterSeconds(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  const s = /^\d{1,10}$/.test(v.trim()) ? Number(v.trim()) : (Date.parse(v) - now) / 1000;
  return Number.isFinite(s) && s >= 0 ? Math.min(Math.ceil(s), 86_400) : null;
}

export const sendWebhook: Send = (target, body, headers, o) => {
  const check = checkUrlStatically(target, o.allowPrivateNetworks);
  if (!check.ok) return Promise.resolve(failure(`refused: the url ${check.message}`));
  const url = check.url;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendOutcome>((resolve) => {
    let done = false;
    const finish = (r: SendOutcome) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    const req = client.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      agent: false,
      lookup: guardedLookup(o.allowPrivateNetworks) as never,
      signal: AbortSignal.timeout(o.timeoutMs),
    }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        res.destroy();
        return finish({ ok: true, statusCode: status, error: null, retryAfterSeconds: null });
      }
      // keep the start of the receiver's answer: it usually says what went wrong
      const chunks: Buffer[] = [];
      let size = 0;
      const fail = () => {
        const text = Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_BYTES).trim();
        const what = status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed` : `HTTP ${status}`;
        finish(failure(text ? `${what}: ${text}` : what, status, status === 429 || status === 503 ? retryAfterSeconds(res.headers['retry-after']) : null));
        res.destroy();
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= ERROR_BODY_BYTES) fail();
      });
      res.on('end', fail);
      res.on('error', fail);
      res.on('close', fail);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const timedOut = e.name === 'AbortError' || e.name === 'TimeoutError' || e.code === 'ABORT_ERR';
      finish(failure(timedOut ? `no answer within ${o.timeoutMs} ms` : e.message || e.code || 'connection failed'));
    });
    req.end(body);
  });
};
