import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.ts';

test('the committed example configuration is valid', () => {
  const file = fileURLToPath(new URL('../../deploy/config/podwatch.example.yaml', import.meta.url));
  const cfg = loadConfig(['--config', file], {});
  assert.equal(cfg.collector.sources.length, 3);
  assert.equal(cfg.elasticsearch?.namespace, 'default');
});
