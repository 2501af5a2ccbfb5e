import type { NormalizerConfig } from '../../schemas/config.ts';

interface Cert { sha1?: string; dn?: string; cn?: string }

/**
 * Who a verified client certificate belongs to: the first table row that matches its
 * fingerprint, subject DN or CN, else its CN (or DN) as configured.
 */
export function identityOf(cert: Cert, cfg: NormalizerConfig['identity']): string | undefined {
  const sha1 = cert.sha1?.toLowerCase();
  for (const row of cfg.table) {
    if (row.sha1_fingerprint && sha1 && row.sha1_fingerprint.replace(/:/g, '').toLowerCase() === sha1) return row.user;
    if (row.subject_dn && cert.dn && row.subject_dn === cert.dn) return row.user;
    if (row.common_name && cert.cn && row.common_name === cert.cn) return row.user;
  }
  return cfg.from === 'distinguished_name' ? cert.dn ?? cert.cn : cert.cn;
}
