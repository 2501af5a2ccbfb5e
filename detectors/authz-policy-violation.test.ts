import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authzPolicyViolation as d } from './authz-policy-violation.ts';
import { fixture, runDetector } from './lib/test-helpers.ts';

const policy = { roles: { reader: ['tier:read'], operator: ['container.*', 'system.info'] }, identities: { alice: ['reader'], bob: ['operator'] } };

test('an operation outside the role alerts; inside does not', () => {
  const [exec] = fixture('authz-policy-violation', 'positive');
  const f = runDetector(d, [exec!], policy);
  assert.equal(f[0]!.summary, 'alice performed container.exec.create, which role reader does not allow');
  assert.equal(runDetector(d, fixture('authz-policy-violation', 'negative'), policy).length, 0);
  assert.equal(runDetector(d, [exec!], { ...policy, identities: { alice: ['operator'] } }).length, 0, 'container.* allows exec');
});

test('without a policy the detector is off; unlisted identities get default_roles', () => {
  const [exec] = fixture('authz-policy-violation', 'positive');
  assert.equal(runDetector(d, [exec!]).length, 0);
  assert.match(runDetector(d, [exec!], { roles: policy.roles })[0]!.summary, /no role grants/);
});
