import { z } from 'zod';
import { Severity, Timestamp } from './common.ts';

// The one configuration shape for every service. Defaults here are the embedded defaults
// that `podwatch run --standalone` starts on; secrets are filled in by the loader from
// environment variables or `*_file` keys before validation.

const Port = z.number().int().min(0).max(65535);
const Duration = z.number().int().positive();

export const TlsConfig = z.strictObject({
  enabled: z.boolean().default(false),
  ca_file: z.string().optional(),
  cert_file: z.string().optional(),
  key_file: z.string().optional(),
  reject_unauthorized: z.boolean().default(true),
});

export const KafkaConfig = z.strictObject({
  brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1).default(['127.0.0.1:19092']),
  client_id: z.string().default('podwatch'),
  /** Consumer group ids are `<group_prefix>-<service>`; two Podwatch pipelines on one cluster need different prefixes. */
  group_prefix: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('podwatch'),
  tls: TlsConfig.default({ enabled: false, reject_unauthorized: true }),
  /**
   * The normalizer, detector and indexer commit offsets (and the detector its state) at most this
   * often; after a crash at most this long of input is processed again, under the same ids.
   */
  commit_interval_ms: z.number().int().min(0).max(60_000).default(1000),
  sasl: z.strictObject({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z.string().min(1, 'set it with PODWATCH_KAFKA_SASL_PASSWORD(_FILE) or password_file'),
  }).optional(),
  topics: z.strictObject({
    raw: z.string().default('podwatch.raw'),
    events: z.string().default('podwatch.events'),
    alerts: z.string().default('podwatch.alerts'),
    dlq: z.string().default('podwatch.dlq'),
    state: z.string().default('podwatch.detector-state'),
    alerter_state: z.string().default('podwatch.alerter-state'),
    retry: z.string().default('podwatch.alert-retry'),
    notifications: z.string().default('podwatch.notifications'),
    partitions: z.number().int().positive().default(6),
    replication_factor: z.number().int().positive().default(1),
  }).prefault({}),
});

export const ElasticsearchConfig = z.strictObject({
  url: z.url().default('http://127.0.0.1:9201'),
  ca_file: z.string().optional(),
  reject_unauthorized: z.boolean().default(true),
  api_key: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  namespace: z.string().regex(/^[a-z0-9_]+$/, 'lowercase letters, digits and _ only').default('default'),
  request_timeout_ms: Duration.default(30_000),
});

export const HttpConfig = z.strictObject({
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port; each service has its own default. */
  port: Port.optional(),
});

export const FileSourceConfig = z.strictObject({
  type: z.literal('file'),
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  paths: z.array(z.string().min(1)).min(1),
  format: z.string().default('auto'),
  start_at: z.enum(['beginning', 'end']).optional(),
});

export const JournaldSourceConfig = z.strictObject({
  type: z.literal('journald'),
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  /** journalctl match expressions; entries matching any of them are collected. */
  matches: z.array(z.string().regex(/^[A-Z0-9_]+=.*$/, 'expected FIELD=value')).default([
    'SYSLOG_IDENTIFIER=podman', '_SYSTEMD_UNIT=podman.service', '_SYSTEMD_UNIT=podman.socket',
  ]),
  /** Read journal files copied from a host instead of the local journal. */
  directory: z.string().optional(),
  file: z.string().optional(),
  journalctl: z.string().default('journalctl'),
  format: z.string().default('auto'),
  start_at: z.enum(['beginning', 'end']).optional(),
});

export const SourceConfig = z.discriminatedUnion('type', [FileSourceConfig, JournaldSourceConfig]);

export const CollectorConfig = z.strictObject({
  checkpoint_dir: z.string().default('./data/checkpoints'),
  /** Where to begin in a file or journal never seen before. */
  start_at: z.enum(['beginning', 'end']).default('end'),
  max_line_bytes: z.number().int().min(256).max(256 * 1024).default(64 * 1024),
  partial_line_timeout_ms: Duration.default(5_000),
  poll_interval_ms: Duration.default(250),
  glob_interval_ms: Duration.default(2_000),
  batch_max_records: z.number().int().positive().default(500),
  batch_linger_ms: z.number().int().nonnegative().default(20),
  journal_restart_backoff_ms: Duration.default(1_000),
  sources: z.array(SourceConfig).default([]),
  http: HttpConfig.default({ host: '127.0.0.1', port: 9464 }),
});

const Cidr = z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'expected an IP network such as 10.0.0.0/8');

export const NamedNetwork = z.strictObject({ name: z.string().min(1), cidr: Cidr });

export const IdentityConfig = z.strictObject({
  /** What of a verified client certificate becomes `user.name` when no table row matches. */
  from: z.enum(['common_name', 'distinguished_name']).default('common_name'),
  /** Explicit mapping, first match wins: certificate fingerprint, subject DN or CN → a person or service. */
  table: z.array(z.strictObject({
    sha1_fingerprint: z.string().regex(/^[0-9a-fA-F:]{40,59}$/).optional(),
    subject_dn: z.string().optional(),
    common_name: z.string().optional(),
    user: z.string().min(1),
  }).refine((r) => r.sha1_fingerprint || r.subject_dn || r.common_name, 'a row needs sha1_fingerprint, subject_dn or common_name')).default([]),
});

export const NormalizerConfig = z.strictObject({
  /**
   * How events are keyed (and so partitioned): by `identity` (user, else source IP; per-identity
   * detectors scale across workers) or by `host` (all of a host's events on one worker, which
   * proxy-bypass needs in distributed mode).
   */
  partition_key: z.enum(['identity', 'host']).default('identity'),
  /** Keep the raw line in `event.original`. */
  keep_original: z.boolean().default(true),
  /** Zone of timestamps written without one (nginx error log, HAProxy): `local`, `UTC` or `+HH:MM`. */
  local_timezone: z.string().regex(/^(local|UTC|[+-]\d{2}:\d{2})$/, 'local, UTC or +HH:MM').default('local'),
  identity: IdentityConfig.prefault({}),
  /** Named networks: `source.network` is the first that contains the source IP. */
  networks: z.array(NamedNetwork).default([]),
  /** GeoIP/ASN enrichment from MaxMind-format databases (GeoLite2/GeoIP2 City or Country, ASN); off unless set. */
  geoip: z.strictObject({ city_db: z.string().optional(), asn_db: z.string().optional() }).optional(),
  http: HttpConfig.default({ host: '127.0.0.1', port: 9465 }),
});

export const ExceptionCondition = z.strictObject({
  /** An event field path such as `user.name` or `container.name`. */
  field: z.string().regex(/^[a-z_@][a-z0-9_.@]*$/, 'a field path such as user.name'),
  op: z.enum(['eq', 'in', 'glob', 'cidr', 'prefix']),
  values: z.array(z.string()).min(1),
});

/** A structured exception: when every condition matches the triggering event, the alert is suppressed (and counted). */
export const DetectorException = z.strictObject({
  reason: z.string().min(1, 'say why the exception exists'),
  match: z.array(ExceptionCondition).min(1),
});

export const DetectorSettings = z.strictObject({
  enabled: z.boolean().default(true),
  /** Detector parameters; validated against the detector's own schema at startup. */
  params: z.record(z.string(), z.unknown()).default({}),
  exceptions: z.array(DetectorException).default([]),
});

const Name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');
const FieldPath = z.string().regex(/^[a-z_@][a-z0-9_.@]*$/, 'a field path such as rule.id');

/** What an alert must look like for a route or a mute to apply; every given condition must hold. */
export const AlertMatch = z.strictObject({
  severity: z.array(Severity).min(1).optional(),
  min_severity: Severity.optional(),
  /** Detector ids (`rule.id`); `*` globs allowed. */
  rule: z.array(z.string().min(1)).min(1).optional(),
  /** Key entity values (identity, source IP, container, ...); `*` globs allowed. */
  entity: z.array(z.string().min(1)).min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const SmtpConfig = z.strictObject({
  host: z.string().min(1),
  port: Port.optional(),
  /** `starttls` (587, upgrade required), `tls` (implicit TLS, 465) or `none` (plaintext; only for a local relay). */
  security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
  username: z.string().optional(),
  password: z.string().optional(),
  ca_file: z.string().optional(),
  reject_unauthorized: z.boolean().default(true),
  from: z.string().min(3).default('Podwatch <podwatch@localhost>'),
  timeout_ms: Duration.default(10_000),
});

export const ChannelConfig = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('console'), name: Name }),
  z.strictObject({
    type: z.literal('email'), name: Name,
    to: z.array(z.email()).min(1),
    /** Overrides `alerter.smtp.from`. */
    from: z.string().min(3).optional(),
  }),
  z.strictObject({
    type: z.literal('webhook'), name: Name,
    url: z.url(),
    /** `generic` (Podwatch's documented JSON), `slack` (incoming webhook) or `teams` (Workflows / Adaptive Card). */
    preset: z.enum(['generic', 'slack', 'teams']).default('generic'),
    /** HMAC-SHA256 key for `X-Podwatch-Signature`; set with `secret_file` or leave unset to send unsigned. */
    secret: z.string().min(16, 'use at least 16 characters').optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'), z.string()).default({}),
    timeout_ms: Duration.default(10_000),
    ca_file: z.string().optional(),
  }),
]);

export const AlerterConfig = z.strictObject({
  smtp: SmtpConfig.optional(),
  /** Delivery channels; `console` (standard output) always exists. */
  channels: z.array(ChannelConfig).default([]),
  /** First matching route wins unless it says `continue: true`. */
  routes: z.array(z.strictObject({
    match: AlertMatch.default({}),
    channels: z.array(Name).min(1),
    continue: z.boolean().default(false),
  })).default([]),
  /** Where alerts no route matched go. */
  default_channels: z.array(Name).min(1).default(['console']),
  grouping: z.strictObject({
    /** Alerts with equal values of these fields are one group. */
    by: z.array(FieldPath).min(1).default(['rule.id', 'alert.entity.type', 'alert.entity.value']),
    /** A group closes when no alert joined it for this long (alert time, and wall time when quiet). */
    window_ms: Duration.default(300_000),
    /** While a group stays active, notify again at most this often with the count since. */
    realert_ms: Duration.default(900_000),
  }).prefault({}),
  mutes: z.array(z.strictObject({
    match: AlertMatch,
    until: Timestamp,
    by: z.string().min(1, 'say who muted'),
    reason: z.string().min(1, 'say why'),
  })).default([]),
  /** A YAML/JSON list of mutes (same shape), re-read while running; `podwatch alert mute` appends to it. */
  mutes_file: z.string().optional(),
  retry: z.strictObject({
    initial_ms: Duration.default(1_000),
    max_ms: Duration.default(60_000),
    /** After this long failing, a notification is dead-lettered and `channel-unhealthy` goes to the other channels. */
    give_up_ms: Duration.default(3_600_000),
  }).prefault({}),
  http: HttpConfig.default({ host: '127.0.0.1', port: 9468 }),
});

const CronExpr = z.string().regex(/^\S+( \S+){4,5}$/, 'a cron expression such as "0 8 * * 1"');
const JobChannels = z.array(Name).min(1).optional();

export const PostureEndpoint = z.strictObject({
  name: Name,
  host: z.string().min(1),
  /** The TLS port of the API (the proxy). */
  port: Port,
  /** Ports where the API must NOT answer plain HTTP (default: the TLS port itself). */
  plaintext_ports: z.array(Port).optional(),
  /** Path requested to see whether the API answers (Podman's ping). */
  path: z.string().startsWith('/').default('/_ping'),
  /** CA that should have issued the server certificate; without it the chain is only reported. */
  ca_file: z.string().optional(),
  servername: z.string().optional(),
  expect: z.strictObject({
    plaintext: z.boolean().default(false),
    min_tls_version: z.enum(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
    client_cert_required: z.boolean().default(true),
    cert_min_days: z.number().int().nonnegative().default(14),
    weak_ciphers: z.boolean().default(false),
  }).prefault({}),
});

export const HeartbeatSource = z.strictObject({
  name: Name,
  /** Event fields that pick this source's events, e.g. `{ event.dataset: nginx.access, host.name: web1 }`. */
  match: z.record(z.string().regex(/^[a-z_@][a-z0-9_.@]*$/), z.string()).refine((m) => Object.keys(m).length > 0, 'give at least one field'),
  /** Alert when nothing arrived for longer than this. */
  max_silence_ms: Duration,
});

export const SchedulerConfig = z.strictObject({
  /** IANA zone the schedules are read in. */
  timezone: z.string().default('UTC'),
  access_review: z.strictObject({
    enabled: z.boolean().default(true),
    schedule: CronExpr.default('0 7 * * 1'),
    period_days: z.number().int().positive().default(7),
    /** Identities not seen for this many days (but seen within `lookback_days`) are dormant. */
    dormant_days: z.number().int().positive().default(30),
    lookback_days: z.number().int().positive().default(180),
    cert_expiry_days: z.number().int().positive().default(30),
    channels: JobChannels,
  }).prefault({}),
  heartbeat: z.strictObject({
    enabled: z.boolean().default(true),
    schedule: CronExpr.default('* * * * *'),
    sources: z.array(HeartbeatSource).default([]),
    /** Every collector host seen within `hosts_lookback_days` must send at least this often (0: off). */
    host_max_silence_ms: z.number().int().nonnegative().default(3_600_000),
    hosts_lookback_days: z.number().int().positive().default(7),
    /** Consumer lag above this that does not shrink between two runs is a stalled stage (0: off). */
    max_consumer_lag: z.number().int().nonnegative().default(10_000),
  }).prefault({}),
  posture: z.strictObject({
    enabled: z.boolean().default(true),
    schedule: CronExpr.default('17 * * * *'),
    endpoints: z.array(PostureEndpoint).default([]),
    timeout_ms: Duration.default(5_000),
  }).prefault({}),
  http: HttpConfig.default({ host: '127.0.0.1', port: 9469 }),
});

export const Config = z.strictObject({
  host: z.strictObject({ name: z.string().min(1).optional() }).prefault({}),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  }).prefault({}),
  kafka: KafkaConfig.prefault({}),
  elasticsearch: ElasticsearchConfig.optional(),
  collector: CollectorConfig.prefault({}),
  normalizer: NormalizerConfig.prefault({}),
  /** Per detector id: enabled, params, exceptions. Detectors not listed run on their defaults. */
  detectors: z.record(z.string(), DetectorSettings).default({}),
  indexer: z.strictObject({
    /** Days events and alerts are kept where the cluster has ILM. */
    retention_days: z.number().int().positive().default(30),
    /**
     * How soon an indexed document is searchable; each refresh writes a segment. Raising it
     * trades search freshness for Elasticsearch CPU (docs/performance.md has the measurement).
     */
    refresh_interval: z.string().regex(/^\d+(ms|s|m)$/, "expected a duration such as '1s', '500ms' or '1m'").default('1s'),
    http: HttpConfig.default({ host: '127.0.0.1', port: 9467 }),
  }).prefault({}),
  /** The detector worker itself (the detectors are configured under `detectors`). */
  detector: z.strictObject({ http: HttpConfig.default({ host: '127.0.0.1', port: 9466 }) }).prefault({}),
  alerter: AlerterConfig.prefault({}),
  scheduler: SchedulerConfig.prefault({}),
  /** Standalone mode without Elasticsearch keeps events and alerts here (NDJSON, one file per kind and day). */
  store: z.strictObject({
    dir: z.string().default('./data/store'),
    /** Longer than the access review's `dormant_days`, so the review can still see who went silent. */
    retention_days: z.number().int().positive().default(90),
    /** A day's file rolls over to `.1`, `.2`, ... past this size. */
    max_file_mb: z.number().int().positive().default(256),
  }).prefault({}),
}).superRefine((c, ctx) => {
  const names = new Set(['console', ...c.alerter.channels.map((ch) => ch.name)]);
  c.alerter.channels.forEach((ch, i) => {
    if (c.alerter.channels.findIndex((x) => x.name === ch.name) !== i || ch.name === 'console' && ch.type !== 'console') {
      ctx.addIssue({ code: 'custom', path: ['alerter', 'channels', i, 'name'], message: `channel name ${ch.name} is used twice` });
    }
    if (ch.type === 'email' && !c.alerter.smtp) ctx.addIssue({ code: 'custom', path: ['alerter', 'smtp'], message: `channel ${ch.name} sends email: set alerter.smtp.host` });
  });
  const check = (list: string[], path: (string | number)[]) => list.forEach((n, j) => {
    if (!names.has(n)) ctx.addIssue({ code: 'custom', path: [...path, j], message: `no channel named ${n} (known: ${[...names].join(', ')})` });
  });
  c.alerter.routes.forEach((r, i) => check(r.channels, ['alerter', 'routes', i, 'channels']));
  check(c.alerter.default_channels, ['alerter', 'default_channels']);
  if (c.scheduler.access_review.channels) check(c.scheduler.access_review.channels, ['scheduler', 'access_review', 'channels']);
});

export type Config = z.infer<typeof Config>;
export type ConfigInput = z.input<typeof Config>;
export type KafkaConfig = z.infer<typeof KafkaConfig>;
export type ElasticsearchConfig = z.infer<typeof ElasticsearchConfig>;
export type CollectorConfig = z.infer<typeof CollectorConfig>;
export type FileSourceConfig = z.infer<typeof FileSourceConfig>;
export type JournaldSourceConfig = z.infer<typeof JournaldSourceConfig>;
export type SourceConfig = z.infer<typeof SourceConfig>;
export type NormalizerConfig = z.infer<typeof NormalizerConfig>;
export type DetectorSettings = z.infer<typeof DetectorSettings>;
export type DetectorException = z.infer<typeof DetectorException>;
export type AlerterConfig = z.infer<typeof AlerterConfig>;
export type ChannelConfig = z.infer<typeof ChannelConfig>;
export type SmtpConfig = z.infer<typeof SmtpConfig>;
export type AlertMatch = z.infer<typeof AlertMatch>;
export type SchedulerConfig = z.infer<typeof SchedulerConfig>;
export type PostureEndpoint = z.infer<typeof PostureEndpoint>;
export type HeartbeatSource = z.infer<typeof HeartbeatSource>;
