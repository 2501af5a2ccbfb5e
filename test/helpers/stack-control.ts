import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../deploy/stack/stack.sh', import.meta.url));

/** Stops or starts one component of the real stack (fault tests only; they run one at a time). */
export function stack(action: 'kafka-down' | 'kafka-up' | 'kafka-kill' | 'es-down' | 'es-up' | 'es-kill'): void {
  execFileSync('bash', [SCRIPT, action], { stdio: ['ignore', 'ignore', 'inherit'] });
}
