import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryLogger } from '../../test/helpers/log.ts';

test('secrets are redacted wherever they sit in a logged object', () => {
  const { logger, lines } = memoryLogger();
  logger.info({ config: { kafka: { sasl: { password: 'hunter2' } } }, headers: { authorization: 'Bearer abc' }, api_key: 'k' }, 'x');
  const text = JSON.stringify(lines());
  assert.doesNotMatch(text, /hunter2|Bearer abc|"k"/);
  assert.match(text, /\[redacted\]/);
  assert.equal(lines()[0]!.service, 'test');
});
