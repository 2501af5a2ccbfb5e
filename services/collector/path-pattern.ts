import fs from 'node:fs';
import path from 'node:path';

const WILDCARD = /[*?[]/;

function segmentRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close === -1) re += '\\[';
      else { re += `[${segment.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`; i = close; }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Expands a path pattern with `*`, `?` and `[...]` in any segment (no `**`) to the paths that
 * exist now, sorted. A pattern without wildcards is returned as is, existing or not.
 */
export function expandPattern(pattern: string): string[] {
  if (!WILDCARD.test(pattern)) return [pattern];
  const abs = path.resolve(pattern);
  const segments = abs.split('/').filter(Boolean);
  let bases = ['/'];
  for (const seg of segments) {
    const next: string[] = [];
    if (!WILDCARD.test(seg)) {
      for (const b of bases) next.push(path.join(b, seg));
    } else {
      const re = segmentRegex(seg);
      for (const b of bases) {
        let names: string[];
        try { names = fs.readdirSync(b); } catch { continue; }
        for (const n of names) if (re.test(n)) next.push(path.join(b, n));
      }
    }
    bases = next;
  }
  return bases.sort();
}
