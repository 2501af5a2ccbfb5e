import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { enabledDetectors } from '../detector/engine.ts';
import { loadConfig } from './config.ts';
import { checkSchedules } from '../scheduler/main.ts';

test('the committed example configuration is valid', () => {
  const file = fileURLToPath(new URL('../../deploy/config/podwatch.example.yaml', import.meta.url));
  const cfg = loadConfig(['--config', file], {});
  assert.equal(cfg.collector.sources.length, 3);
  assert.equal(cfg.elasticsearch?.namespace, 'default');
  assert.equal(cfg.normalizer.identity.table[0]?.user, 'ci-bot');
  assert.equal(cfg.detectors['container-exec']?.exceptions[0]?.match.length, 2);
  assert.ok(enabledDetectors(cfg).length >= 8, 'the detector parameters in the example are valid');
  assert.deepEqual(cfg.alerter.channels.map((c) => c.name), ['soc-mail', 'siem', 'soc-slack']);
  assert.equal(cfg.alerter.routes.length, 3);
  assert.equal(cfg.scheduler.posture.endpoints[0]?.expect.min_tls_version, 'TLSv1.2');
  assert.doesNotThrow(() => checkSchedules({ ...cfg, elasticsearch: cfg.elasticsearch }), 'schedules and time zone are valid');
});
