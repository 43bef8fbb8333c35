import type { Transporter } from 'nodemailer';

// Outgoing mail through SMTP_URL with nodemailer. One pooled transport per process: a campaign
// reuses its connections instead of a handshake per message.

export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text?: string;
  headers?: Record<string, string>;
  /** a stable Message-ID lets receivers and our logs tie retries and replies to one message */
  messageId?: string;
}

export interface Mailer {
  readonly configured: boolean;
  /** resolves with the server's answer when it accepted the message; rejects otherwise */
  send(mail: OutgoingMail): Promise<{ messageId: string; response: string }>;
  close(): void;
}

const TRANSPORT_DEFAULTS = { pool: 'true', maxConnections: '2', connectionTimeout: '10000', greetingTimeout: '10000', socketTimeout: '30000' };

export function createMailer(o: { smtpUrl: string | undefined; from: string }): Mailer {
  let transport: Transporter | undefined;
  // nodemailer (~50 ms of CPU to load) is loaded by the first message, not by every process that
  // builds the app: most never send mail
  const transportOf = async () => {
    if (!o.smtpUrl) throw new Error('SMTP_URL is not set');
    // options ride in the URL's query (nodemailer reads them there), unless SMTP_URL sets its own:
    // pooled connections, and timeouts short enough that a dead server fails a batch, not a worker
    const url = new URL(o.smtpUrl);
    for (const [k, v] of Object.entries(TRANSPORT_DEFAULTS)) if (!url.searchParams.has(k)) url.searchParams.set(k, v);
    const { default: nodemailer } = await import('nodemailer');
    transport ??= nodemailer.createTransport(url.toString());
    return transport;
  };
  return {
    configured: Boolean(o.smtpUrl),
    async send(mail) {
      const info = await (await transportOf()).sendMail({ from: o.from, ...mail });
      return { messageId: String(info.messageId), response: String(info.response) };
    },
    close() {
      transport?.close();
      transport = undefined;
    },
  };
}
