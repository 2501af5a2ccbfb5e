import fs from 'node:fs';

export interface Instruction { op: string; args: string; line: number; stage: string }

const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);

/** Parses a Containerfile into instructions (continuations joined, comments dropped); throws on an unknown instruction. */
export function parseContainerfile(file: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  let stage = '';
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = lines[i]!;
    if (/^\s*(#|$)/.test(text)) continue;
    while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++i]!.replace(/^\s*#.*$/, '')}`;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(text);
    if (!m || !KNOWN.has(m[1]!.toUpperCase())) throw new Error(`${file}:${start + 1}: not a Containerfile instruction: ${text.slice(0, 60)}`);
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage = /\sAS\s+(\S+)/i.exec(m[2]!)?.[1] ?? String(out.filter((x) => x.op === 'FROM').length);
    out.push({ op, args: m[2]!.trim(), line: start + 1, stage });
  }
  return out;
}

/** An exec-form argument list (`["a", "b"]`). */
export const execForm = (args: string): string[] => JSON.parse(args.replace(/^--\S+\s+/g, '')) as string[];
