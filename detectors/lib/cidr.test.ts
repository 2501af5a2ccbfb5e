import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inCidr, isCidr, parseCidr } from './cidr.ts';

test('IPv4 and IPv6 membership, including mapped IPv4 and bare addresses', () => {
  assert.ok(inCidr('10.1.2.3', parseCidr('10.0.0.0/8')));
  assert.ok(!inCidr('11.1.2.3', parseCidr('10.0.0.0/8')));
  assert.ok(inCidr('127.0.0.66', parseCidr('127.0.0.0/8')));
  assert.ok(inCidr('::ffff:10.9.9.9', parseCidr('10.0.0.0/8')));
  assert.ok(inCidr('2001:db8::1', parseCidr('2001:db8::/32')));
  assert.ok(!inCidr('2001:db9::1', parseCidr('2001:db8::/32')));
  assert.ok(inCidr('192.168.1.5', parseCidr('192.168.1.5')));
  assert.ok(inCidr('1.2.3.4', parseCidr('0.0.0.0/0')));
  assert.ok(!inCidr('::1', parseCidr('0.0.0.0/0')));
});

test('garbage is not a network', () => {
  for (const bad of ['10.0.0.0/33', '300.1.1.1/8', 'office', '1::2::3/64', '']) assert.equal(isCidr(bad), false, bad);
});
