import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from './line-splitter.ts';

test('lines split across chunks keep their offsets', () => {
  const s = new LineSplitter(1024, 100);
  assert.deepEqual(s.push(Buffer.from('ab'), 100), []);
  const lines = s.push(Buffer.from('c\nde\r\nf'), 102);
  assert.deepEqual(lines.map((l) => [l.text, l.start, l.end]), [['abc', 100, 104], ['de', 104, 108]]);
  assert.equal(s.pendingBytes, 1);
  assert.equal(s.flushPartial(109)?.text, 'f');
});

test('a line longer than the limit is truncated and flagged, and the next line is intact', () => {
  const s = new LineSplitter(256, 0);
  const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
  const out = [...s.push(big.subarray(0, 5_000_000), 0), ...s.push(Buffer.concat([big.subarray(5_000_000), Buffer.from('\nnext\n')]), 5_000_000)];
  assert.equal(out.length, 2);
  assert.equal(out[0]!.text.length, 256);
  assert.equal(out[0]!.truncated, true);
  assert.equal(out[0]!.length, 10 * 1024 * 1024);
  assert.equal(out[1]!.text, 'next');
  assert.equal(out[1]!.start, 10 * 1024 * 1024 + 1);
});

test('invalid UTF-8 is kept byte-exact as base64', () => {
  const bytes = Buffer.from([0x47, 0x45, 0x54, 0xff, 0xfe, 0x20, 0xc3]);
  const [line] = new LineSplitter(1024, 0).push(Buffer.concat([bytes, Buffer.from('\n')]), 0);
  assert.equal(line!.encoding, 'base64');
  assert.deepEqual(Buffer.from(line!.text, 'base64'), bytes);
});

test('an empty line is a line of length zero', () => {
  const lines = new LineSplitter(1024, 0).push(Buffer.from('\n\nx\n'), 0);
  assert.deepEqual(lines.map((l) => l.length), [0, 0, 1]);
});
