import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinSources } from '../../src/providers/source-registry.js';
import { repoRoot } from '../support/cli.js';

describe('README', () => {
  it("the sources table's key column agrees with idsync sources", () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    for (const source of builtinSources()) {
      // Prettier pads table cells, so a row is found by its first cell, whatever the padding.
      const row = readme.split('\n').find((l) => new RegExp(`^\\|\\s*\`${source.name}\`\\s*\\|`).test(l));
      expect(row, source.name).toBeDefined();
      const key = row
        ?.split(/(?<!\\)\|/)[3]
        ?.trim()
        .replace(/\\\|/g, '|');
      expect(key, source.name).toBe(`\`${source.keyFields.join('|')}\``);
    }
  });

  it('says how to install completion', () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toContain('idsync completion bash');
  });
});
