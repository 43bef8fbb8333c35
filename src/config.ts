import { z } from 'zod';

// The only reader of process.env. Everything else receives a frozen Config, so tests pass
// plain objects and no module can pick up a setting behind the schema's back.

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

const durationSeconds = z
  .string()
  .regex(/^\d+(s|m|h)?$/, 'a number of seconds, or a number followed by s, m or h')
  .transform((v) => {
    const n = Number.parseInt(v, 10);
    const unit = v.at(-1);
    return unit === 'h' ? n * 3600 : unit === 'm' ? n * 60 : n;
  });

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'a postgres:// or postgresql:// URL');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_READ_URL: postgresUrl.optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(20),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  DATA_DIR: z.string().min(1).default('./.data'),
  JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('headless-crm'),
  JWT_AUDIENCE: z.string().min(1).default('headless-crm-api'),
  ACCESS_TOKEN_TTL: durationSeconds.default(900),
  REFRESH_TOKEN_TTL: durationSeconds.default(30 * 24 * 3600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.url({ message: 'a comma list of origins such as https://app.example.com' }))),
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_WINDOW: durationSeconds.default(60),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// URL').optional(),
  /** prepended to every Redis key, so deployments sharing one Redis keep apart */
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:._-]{0,64}$/, 'up to 64 of A-Z a-z 0-9 : . _ -').default('crm:'),
  /** server processes `npm run cluster` starts; default: one per CPU core */
  CLUSTER_WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL').optional(),
  /** the From of campaign mail: an address, or `Name <address>` */
  SMTP_FROM: z.string().min(3).max(320).default('CRM <no-reply@localhost>'),
  /** campaign messages sent per second by each process at most */
  CAMPAIGN_SEND_RATE: z.coerce.number().min(0.1).max(10_000).default(20),
  /** days after a click in which an order counts as that campaign's conversion */
  CAMPAIGN_CONVERSION_WINDOW_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  PUBLIC_BASE_URL: z.url().optional(),
  DEFAULT_PHONE_REGION: z
    .string()
    .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code such as SA')
    .default('SA'),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(12, 'at least 12 characters').optional(),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** event-loop delay above which requests are shed with 503 (0: never; always off on embedded PGlite and in tests) */
  MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(10),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(1).default(50),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(5000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  EVENT_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(36_500)
    .default(30)
    .describe('Days the change feed keeps events (GET /v1/events, webhook redelivery); 0 keeps them forever'),
});

export type Env = z.input<typeof envSchema>;
type Parsed = z.output<typeof envSchema>;

export interface Config {
  readonly env: Parsed['NODE_ENV'];
  readonly port: number;
  readonly host: string;
  readonly database: {
    /** undefined → embedded PGlite in dataDir */
    readonly url: string | undefined;
    readonly readUrl: string | undefined;
    readonly poolMax: number;
    readonly statementTimeoutMs: number;
  };
  readonly dataDir: string;
  readonly jwt: {
    /** undefined only in development, where server.ts generates and keeps one in dataDir */
    readonly secret: string | undefined;
    readonly issuer: string;
    readonly audience: string;
    readonly accessTokenTtl: number;
    readonly refreshTokenTtl: number;
  };
  readonly logLevel: Parsed['LOG_LEVEL'];
  readonly corsOrigins: readonly string[];
  readonly rateLimit: { readonly max: number; readonly windowSeconds: number };
  readonly redisUrl: string | undefined;
  readonly redisKeyPrefix: string;
  /** processes of `npm run cluster`; undefined: one per core */
  readonly clusterWorkers: number | undefined;
  readonly smtpUrl: string | undefined;
  readonly marketing: { readonly from: string; readonly sendRate: number; readonly conversionWindowDays: number };
  readonly publicBaseUrl: string;
  readonly defaultPhoneRegion: string;
  readonly webhookAllowPrivateNetworks: boolean;
  readonly admin: { readonly email: string | undefined; readonly password: string | undefined };
  readonly requestTimeoutMs: number;
  readonly maxEventLoopDelayMs: number;
  readonly bodyLimitBytes: number;
  readonly graphql: { readonly maxDepth: number; readonly maxAliases: number; readonly maxCost: number };
  readonly shutdownGraceMs: number;
  /** days the change feed keeps its events; 0: forever (events a webhook still needs are always kept) */
  readonly eventRetentionDays: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once. A bad value throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set": shells and .env files write them that way.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = result.data;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new ConfigError(['JWT_SECRET: required when NODE_ENV=production']);
  }
  return deepFreeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    database: {
      url: e.DATABASE_URL,
      readUrl: e.DATABASE_READ_URL,
      poolMax: e.DATABASE_POOL_MAX,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    dataDir: e.DATA_DIR,
    jwt: {
      secret: e.JWT_SECRET,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTokenTtl: e.ACCESS_TOKEN_TTL,
      refreshTokenTtl: e.REFRESH_TOKEN_TTL,
    },
    logLevel: e.LOG_LEVEL,
    corsOrigins: e.CORS_ORIGINS,
    rateLimit: { max: e.RATE_LIMIT_MAX, windowSeconds: e.RATE_LIMIT_WINDOW },
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    clusterWorkers: e.CLUSTER_WORKERS,
    smtpUrl: e.SMTP_URL,
    marketing: { from: e.SMTP_FROM, sendRate: e.CAMPAIGN_SEND_RATE, conversionWindowDays: e.CAMPAIGN_CONVERSION_WINDOW_DAYS },
    publicBaseUrl: e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`,
    defaultPhoneRegion: e.DEFAULT_PHONE_REGION,
    webhookAllowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    admin: { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD },
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    graphql: { maxDepth: e.GRAPHQL_MAX_DEPTH, maxAliases: e.GRAPHQL_MAX_ALIASES, maxCost: e.GRAPHQL_MAX_COST },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    eventRetentionDays: e.EVENT_RETENTION_DAYS,
  });
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}
