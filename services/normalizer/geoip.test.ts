import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { writeMmdb } from '../../test/helpers/mmdb.ts';
import { ConfigError, parseConfig } from '../common/config.ts';
import { normalizeContext, normalizeRecord } from './normalize.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-geoip-'));
const city = path.join(dir, 'city.mmdb');
const asn = path.join(dir, 'asn.mmdb');
fs.writeFileSync(city, writeMmdb('GeoLite2-City', [['203.0.113.0/24', { country: { iso_code: 'DE' }, city: { names: { en: 'Berlin' } } }]]));
fs.writeFileSync(asn, writeMmdb('GeoLite2-ASN', [['203.0.113.0/24', { autonomous_system_number: 64500, autonomous_system_organization: 'Example Net' }]]));

const line = (ip: string) => `${ip} - - [03/Dec/2026:10:00:00 +0000] "GET /v4.0.0/libpod/info HTTP/1.1" 200 10 "-" "curl/8"`;
const record = (ip: string) => ({ id: ip, source: { type: 'file' as const, name: 'x', format: 'auto' }, host: 'h', position: { offset: 0 }, line: line(ip), encoding: 'utf8' as const, truncated: false, collected_at: '2026-12-03T10:00:00.000Z' });

test('GeoIP and ASN from MaxMind-format files land in source.geo and source.as; named networks too', () => {
  const ctx = normalizeContext(parseConfig({ normalizer: { geoip: { city_db: city, asn_db: asn }, networks: [{ name: 'partner', cidr: '203.0.113.0/25' }] } }).normalizer);
  const out = normalizeRecord(record('203.0.113.7'), ctx);
  assert.ok(out.ok);
  assert.deepEqual(out.event.source, { ip: '203.0.113.7', network: 'partner', geo: { country_iso_code: 'DE', city_name: 'Berlin' }, as: { number: 64500, organization: { name: 'Example Net' } } });
  const other = normalizeRecord(record('10.1.1.1'), ctx);
  assert.ok(other.ok);
  assert.deepEqual(other.event.source, { ip: '10.1.1.1' }, 'no data, no fields');
});

test('off by default; a missing or bad database file is a configuration error naming the field', () => {
  assert.equal(normalizeContext(parseConfig({}).normalizer).geo, undefined);
  assert.throws(() => normalizeContext(parseConfig({ normalizer: { geoip: { city_db: '/nonexistent.mmdb' } } }).normalizer),
    (e: Error) => e instanceof ConfigError && /normalizer\.geoip\.city_db: cannot read \/nonexistent\.mmdb \(ENOENT\)/.test(e.message));
  const junk = path.join(dir, 'junk.mmdb');
  fs.writeFileSync(junk, 'not a database');
  assert.throws(() => normalizeContext(parseConfig({ normalizer: { geoip: { asn_db: junk } } }).normalizer), /normalizer\.geoip\.asn_db: .* is not a MaxMind database/);
});
