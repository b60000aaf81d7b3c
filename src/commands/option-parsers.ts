import { InvalidArgumentError } from 'commander';
import { didYouMean } from '../core/suggest.js';

/** commander argParsers: a bad value becomes a one-line usage error before any request. */
export function intInRange(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    const n = Number(raw);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

export function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new InvalidArgumentError(`expected one of ${values.join(', ')}${didYouMean(raw, values)}`);
  };
}

/**
 * A file, folder or target name: never empty. Why: `-o ''` reached the writer as the current
 * folder ("cannot write … it is a folder", exit 1), and `--out-dir ''` wrote photos there.
 */
export function nonEmpty(raw: string): string {
  if (raw.trim() === '') throw new InvalidArgumentError('expected a name, got an empty one');
  return raw;
}

/** --param KEY=VALUE, repeatable. */
export function collectParam(raw: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got '${raw}'`);
  const key = raw.slice(0, eq).trim();
  if (!/^[A-Za-z_][\w.-]*$/.test(key)) throw new InvalidArgumentError(`'${key}' is not a parameter name`);
  // The platforms take one value per parameter: a second one silently replacing the first
  // would pull something other than what the command line says.
  if (Object.hasOwn(previous, key)) throw new InvalidArgumentError(`${key} is given twice; a parameter takes one value`);
  return { ...previous, [key]: raw.slice(eq + 1) };
}
