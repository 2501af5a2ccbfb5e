import { z } from 'zod';
import { Ip, RiskTier, Sha256Hex, Timestamp } from './common.ts';

// Field names and value sets follow the Elastic Common Schema (ECS 8.x); what ECS has no
// place for lives under `podman.*`. Objects are strict so a typo is a validation error.

export const EventCategory = z.enum([
  'api', 'authentication', 'configuration', 'database', 'driver', 'file', 'host', 'iam',
  'intrusion_detection', 'malware', 'network', 'package', 'process', 'session', 'threat', 'web',
]);
export const EventType = z.enum([
  'access', 'admin', 'allowed', 'change', 'connection', 'creation', 'deletion', 'denied', 'end',
  'error', 'group', 'indicator', 'info', 'installation', 'protocol', 'start', 'user',
]);
export const EventOutcome = z.enum(['success', 'failure', 'unknown']);
export const ApiFlavour = z.enum(['libpod', 'compat', 'unknown']);

const TlsClient = z.strictObject({
  hash: z.strictObject({
    sha1: z.string().regex(/^[0-9a-f]{40}$/, 'expected 40 lowercase hex characters').optional(),
    sha256: Sha256Hex.optional(),
  }).optional(),
  not_after: Timestamp.optional(),
  x509: z.strictObject({
    subject: z.strictObject({
      distinguished_name: z.string().optional(),
      common_name: z.string().optional(),
    }).optional(),
    issuer: z.strictObject({ distinguished_name: z.string().optional() }).optional(),
    serial_number: z.string().optional(),
  }).optional(),
  /** The proxy's verdict on the client certificate (nginx `$ssl_client_verify`). */
  verify: z.string().optional(),
});

export const PodmanFields = z.strictObject({
  api: z.strictObject({
    operation: z.string(),
    flavour: ApiFlavour,
    version: z.string().optional(),
    risk: RiskTier.optional(),
    showsecret: z.boolean().optional(),
  }).optional(),
  exec: z.strictObject({
    session_id: z.string().optional(),
    command: z.array(z.string()).optional(),
    user: z.string().optional(),
    privileged: z.boolean().optional(),
    tty: z.boolean().optional(),
  }).optional(),
  container: z.strictObject({
    privileged: z.boolean().optional(),
    /** Host paths bind-mounted into the container. */
    host_mounts: z.array(z.string()).optional(),
  }).optional(),
  event: z.strictObject({
    status: z.string(),
    type: z.string(),
    exit_code: z.number().int().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
  }).optional(),
});

export const EcsEvent = z.strictObject({
  '@timestamp': Timestamp,
  event: z.strictObject({
    id: z.string().min(1),
    kind: z.enum(['event', 'alert', 'state', 'pipeline_error']),
    category: z.array(EventCategory).min(1),
    type: z.array(EventType).min(1),
    action: z.string().min(1),
    outcome: EventOutcome,
    reason: z.string().optional(),
    dataset: z.string().min(1),
    module: z.literal('podwatch').default('podwatch'),
    original: z.string().optional(),
    ingested: Timestamp,
  }),
  source: z.strictObject({
    ip: Ip.optional(),
    port: z.number().int().min(0).max(65535).optional(),
    geo: z.strictObject({ country_iso_code: z.string().optional(), city_name: z.string().optional() }).optional(),
    as: z.strictObject({ number: z.number().int().optional(), organization: z.strictObject({ name: z.string() }).optional() }).optional(),
    /** Named network from the configured CIDR table (e.g. `office`). */
    network: z.string().optional(),
  }).optional(),
  user: z.strictObject({ name: z.string().min(1) }).optional(),
  tls: z.strictObject({
    established: z.boolean().optional(),
    version: z.string().optional(),
    version_protocol: z.string().optional(),
    cipher: z.string().optional(),
    client: TlsClient.optional(),
  }).optional(),
  http: z.strictObject({
    version: z.string().optional(),
    request: z.strictObject({
      method: z.string().optional(),
      id: z.string().optional(),
      bytes: z.number().int().nonnegative().optional(),
    }).optional(),
    response: z.strictObject({
      status_code: z.number().int().min(100).max(999).optional(),
      bytes: z.number().int().nonnegative().optional(),
    }).optional(),
  }).optional(),
  url: z.strictObject({ path: z.string().optional(), query: z.string().optional() }).optional(),
  user_agent: z.strictObject({ original: z.string() }).optional(),
  container: z.strictObject({
    id: z.string().optional(),
    name: z.string().optional(),
    image: z.strictObject({ name: z.string() }).optional(),
  }).optional(),
  host: z.strictObject({ name: z.string() }).optional(),
  observer: z.strictObject({ type: z.string(), product: z.string(), hostname: z.string().optional() }),
  message: z.string().optional(),
  log: z.strictObject({
    level: z.string().optional(),
    logger: z.string().optional(),
    file: z.strictObject({ path: z.string() }).optional(),
  }).optional(),
  error: z.strictObject({ message: z.string(), code: z.string().optional() }).optional(),
  related: z.strictObject({ ip: z.array(Ip).optional(), user: z.array(z.string()).optional() }).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  podman: PodmanFields.optional(),
});

export type EcsEvent = z.infer<typeof EcsEvent>;
export type EcsEventInput = z.input<typeof EcsEvent>;
