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
