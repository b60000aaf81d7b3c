/**
 * ID-card numbers are personal sensitive data: ECNU allows its sensitive/zj interface only with
 * the person's written consent (seeds/001), so idsync shows them masked unless asked not to.
 */

import { isIdNumberField, maskIdNumber } from '../core/id-number.js';

export { isIdNumberField, maskIdNumber };

export const consentWarning = 'showing ID-card numbers unmasked: the platform allows its ID-card interface only with the person’s consent';

/** Said once after output with stars in it, so nobody mistakes them for data. */
export const maskedNote = (count: number): string =>
  `idsync: ${count} ID-card number(s) masked; --reveal shows them (only with the person’s consent)`;

export interface MaskResult<T> {
  value: T;
  /** How many values were masked: the command says so once, so nobody mistakes stars for data. */
  masked: number;
}

/** A copy with every ID-card number masked, at any depth (arrays and nested objects too). */
export function maskSensitive<T>(input: T): MaskResult<T> {
  let masked = 0;
  const walk = (value: unknown, field: string | undefined): unknown => {
    if (field !== undefined && isIdNumberField(field) && (typeof value === 'string' || typeof value === 'number')) {
      const text = String(value);
      if (text === '' || /^\*+$/.test(text)) return value;
      masked += 1;
      return maskIdNumber(text);
    }
    if (Array.isArray(value)) return value.map((v) => walk(v, field));
    if (value !== null && typeof value === 'object') {
      // Null prototype: a field named `__proto__` (JSON.parse keeps it as an own property) stays
      // a field instead of becoming the copy's prototype and vanishing from the output.
      const out = Object.create(null) as Record<string, unknown>;
      for (const [k, v] of Object.entries(value)) out[k] = walk(v, k);
      return out;
    }
    return value;
  };
  const value = walk(input, undefined) as T;
  return { value, masked };
}

/** What a command applies to every record it prints: masking unless --reveal, with a count. */
export function createMasker(reveal: boolean): { apply<T>(value: T): T; readonly masked: number } {
  let masked = 0;
  return {
    apply<T>(value: T): T {
      if (reveal) return value;
      const result = maskSensitive(value);
      masked += result.masked;
      return result.value;
    },
    get masked() {
      return masked;
    },
  };
}
