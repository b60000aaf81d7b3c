import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The structure of src/ (issue 12): the engine owns the contracts it consumes, so core/ never
 * reaches out to the providers, the sinks, the lookups or the commands; and no module imports
 * itself through others (a cycle makes load order matter and hides which side owns a type).
 */

const srcDir = path.resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports of a file (static, type-only and dynamic), as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)) {
    found.push(path.resolve(path.dirname(file), (m[1] as string).replace(/\.js$/, '.ts')));
  }
  return found;
}

const files = sourceFiles(srcDir);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => path.relative(srcDir, f);

describe('dependency direction', () => {
  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(graph.get(path.join(srcDir, 'core/sync/engine.ts'))?.length).toBeGreaterThan(3);
  });

  it('core/ imports nothing from providers/, sinks/, lookup/ or commands/', () => {
    const outward = ['providers', 'sinks', 'lookup', 'commands', 'sandbox'].map((d) => path.join(srcDir, d) + path.sep);
    const bad: string[] = [];
    for (const [file, deps] of graph) {
      if (!rel(file).startsWith(`core${path.sep}`)) continue;
      for (const dep of deps) if (outward.some((d) => dep.startsWith(d))) bad.push(`${rel(file)} → ${rel(dep)}`);
    }
    expect(bad).toEqual([]);
  });

  // Providers and sinks implement core's contracts side by side; lookup/ keeps the neutral parts
  // and is handed a provider's directory; only commands/ wires them together.
  it.each([
    ['providers', ['sinks', 'lookup', 'commands', 'sandbox']],
    ['sinks', ['providers', 'lookup', 'commands', 'sandbox']],
    ['lookup', ['providers', 'commands', 'sandbox']],
  ])('%s/ imports nothing from %s', (layer, forbidden) => {
    const banned = forbidden.map((d) => path.join(srcDir, d) + path.sep);
    const bad = [...graph]
      .filter(([f]) => rel(f).startsWith(`${layer}${path.sep}`))
      .flatMap(([f, deps]) => deps.filter((d) => banned.some((b) => d.startsWith(b))).map((d) => `${rel(f)} → ${rel(d)}`));
    expect(bad).toEqual([]);
  });

  it('has no import cycles, type-only imports included', () => {
    const cycles: string[] = [];
    const done = new Set<string>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      if (done.has(file)) return;
      const at = stack.indexOf(file);
      if (at >= 0) {
        cycles.push([...stack.slice(at), file].map(rel).join(' → '));
        return;
      }
      stack.push(file);
      for (const dep of graph.get(file) ?? []) visit(dep);
      stack.pop();
      done.add(file);
    };
    for (const file of files) visit(file);
    expect(cycles).toEqual([]);
  });
});
