import { UsageError } from '../core/errors.js';
import type { LookupKind, PeopleDirectory } from '../core/people.js';

/** The kind `--kind` names, or the platform's default without it. */
export function findLookupKind(people: PeopleDirectory, name: string | undefined): LookupKind {
  const wanted = name ?? people.defaultKind;
  const kind = people.kinds.find((k) => k.name === wanted);
  if (!kind) {
    throw new UsageError(`unknown --kind '${wanted}' for ${people.provider}; expected one of ${people.kinds.map((k) => k.name).join(', ')}`);
  }
  return kind;
}
