import { z } from 'zod';

/** An instant as ISO 8601 with an offset; producers write UTC (`toISOString()`). */
export const Timestamp = z.iso.datetime({ offset: true });

export const Ip = z.union([z.ipv4(), z.ipv6()]);

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters');

/** Risk tiers of Podman API operations, from least to most dangerous. */
export const RiskTier = z.enum(['read', 'write', 'exec', 'data-exfiltration', 'privilege']);
export type RiskTier = z.infer<typeof RiskTier>;

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;
