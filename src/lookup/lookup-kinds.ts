import { UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { LookupKind, PeopleDirectory } from '../core/people.js';

/** The kind `--kind` names, or the platform's default without it. */
export function findLookupKind(people: PeopleDirectory, name: string | undefined): LookupKind {
  const wanted = name ?? people.defaultKind;
  const kind = people.kinds.find((k) => k.name === wanted);
  if (!kind) {
    const names = people.kinds.map((k) => k.name);
    throw new UsageError(
      `unknown --kind '${wanted}' for ${people.provider}${didYouMean(wanted, names)}; expected one of ${names.join(', ')}`,
    );
  }
  return kind;
}
