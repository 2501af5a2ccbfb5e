import fs from 'node:fs';
import maxmind, { type AsnResponse, type CityResponse, type Reader } from 'maxmind';
import type { NormalizerConfig } from '../../schemas/config.ts';
import { ConfigError } from '../common/config.ts';

export interface GeoLookup { (ip: string): { geo?: { country_iso_code?: string; city_name?: string }; as?: { number?: number; organization?: { name: string } } } }

function open<T extends CityResponse | AsnResponse>(file: string, field: string): Reader<T> {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`normalizer.geoip.${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  try {
    return new maxmind.Reader<T>(buf);
  } catch (err) {
    throw new ConfigError(`normalizer.geoip.${field}: ${file} is not a MaxMind database (${(err as Error).message})`);
  }
}

/** Country/city and AS of an address from the configured MaxMind-format files, loaded once at startup. */
export function geoLookup(cfg: NormalizerConfig['geoip']): GeoLookup | undefined {
  if (!cfg?.city_db && !cfg?.asn_db) return undefined;
  const city = cfg.city_db ? open<CityResponse>(cfg.city_db, 'city_db') : undefined;
  const asn = cfg.asn_db ? open<AsnResponse>(cfg.asn_db, 'asn_db') : undefined;
  return (ip) => {
    const c = city?.get(ip);
    const a = asn?.get(ip);
    const iso = c?.country?.iso_code;
    const name = c?.city?.names?.en;
    return {
      ...(iso || name ? { geo: { ...(iso ? { country_iso_code: iso } : {}), ...(name ? { city_name: name } : {}) } } : {}),
      ...(a?.autonomous_system_number ? { as: { number: a.autonomous_system_number, ...(a.autonomous_system_organization ? { organization: { name: a.autonomous_system_organization } } : {}) } } : {}),
    };
  };
}
