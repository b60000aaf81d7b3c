import fs from 'node:fs';
import { z } from 'zod';
import { providers } from './index.js';
import type { SourceDef } from '../core/provider.js';
import { IdsyncError, UsageError } from '../core/errors.js';
import { unknownNameMessage } from '../core/suggest.js';

/**
 * ECNU customised endpoints (/api/v1/customized/<name>) follow the sync protocol with fields
 * of their own, so users declare them as data in IDSYNC_HOME/sources.json (README: "Custom sources").
 */
const customSchema = z.object({
  sources: z.array(
    z.object({
      name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
      provider: z.literal('ecnu').default('ecnu'),
      path: z.string().regex(/^\/[\w\-./]+$/, 'an absolute path such as /api/v1/customized/cards'),
      key: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      requiredParams: z.array(z.string()).default([]),
      description: z.string().default('customised endpoint'),
    }),
  ),
});

export function builtinSources(): SourceDef[] {
  return Object.values(providers).flatMap((p) => [...p.sources]);
}

export function loadCustomSources(file: string): SourceDef[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new IdsyncError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`);
  }
  const parsed = customSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const builtins = new Set(builtinSources().map((s) => s.name));
  return parsed.data.sources.map((s) => {
    if (builtins.has(s.name)) throw new UsageError(`${file}: source '${s.name}' clashes with a built-in source`);
    return {
      name: s.name,
      provider: s.provider,
      path: s.path,
      keyFields: Array.isArray(s.key) ? s.key : [s.key],
      paging: 'page-number',
      requiredParams: s.requiredParams,
      description: s.description,
      custom: true,
    } satisfies SourceDef;
  });
}

export function allSources(customFile: string): SourceDef[] {
  return [...builtinSources(), ...loadCustomSources(customFile)];
}

export function findSource(name: string, customFile: string): SourceDef {
  const sources = allSources(customFile);
  const found = sources.find((s) => s.name === name);
  if (found) return found;
  throw new UsageError(
    unknownNameMessage(
      'source',
      name,
      sources.map((s) => s.name),
    ),
  );
}
