import { activitySpike } from './activity-spike.ts';
import { authFailureBurst } from './auth-failure-burst.ts';
import { authzPolicyViolation } from './authz-policy-violation.ts';
import { containerExec } from './container-exec.ts';
import type { Detector } from './lib/types.ts';
import { plaintextOrWeakTls } from './plaintext-or-weak-tls.ts';
import { proxyBypass } from './proxy-bypass.ts';
import { sensitiveOperation } from './sensitive-operation.ts';
import { tlsHandshakeFailures } from './tls-handshake-failures.ts';
import { unexpectedSourceIp } from './unexpected-source-ip.ts';

/** Every detector; the worker runs the enabled ones over each event. */
export const DETECTORS: readonly Detector[] = [
  authFailureBurst, tlsHandshakeFailures, containerExec, unexpectedSourceIp, plaintextOrWeakTls, authzPolicyViolation, sensitiveOperation, activitySpike, proxyBypass,
];
