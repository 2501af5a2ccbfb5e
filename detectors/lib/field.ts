/** The value at an ECS dotted path (`user.name`, `@timestamp`) of an event or alert, if any. */
export function fieldValue(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path === '@timestamp' ? [path] : path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** A matcher for a shell-style pattern: `*` any run of characters, `?` one character. */
export function globRe(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** A short, stable fingerprint of a string (32-bit FNV-1a, 8 hex digits), for compact replay guards. */
export function fingerprint(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return (h >>> 0).toString(16).padStart(8, '0');
}
