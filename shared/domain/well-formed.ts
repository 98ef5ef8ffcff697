/**
 * Strings that are well-formed UTF-16: no lone surrogate (`\ud800` without its pair). JSON may
 * carry one as an escape, JavaScript keeps it, but nothing downstream can: Firestore refuses the
 * write (a string must be valid UTF-8), and Slack and PagerDuty get text they cannot show. Input
 * is cleaned where it enters (decoding), each lone surrogate replaced by U+FFFD as a UTF-8 decoder
 * does with a bad byte; the stores check again before writing (checkWellFormed).
 */

/**
 * A field of untrusted input read as text: a non-empty string of at most `max` characters, made
 * well formed (a name with a lone surrogate would otherwise make the store refuse the act for good).
 */
export function textField(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= max ? toWellFormed(value) : undefined;
}

/** `value` with every string (and key) well formed: the same value when it already is. */
export function toWellFormed<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return value.isWellFormed() ? value : value.toWellFormed();
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = clean(value[i]);
      if (item !== value[i]) {
        copy ??= [...value];
        copy[i] = item;
      }
    }
    return copy ?? value;
  }
  if (typeof value === 'object' && value !== null) {
    let copy: Record<string, unknown> | undefined;
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key];
      const cleanKey = key.isWellFormed() ? key : key.toWellFormed();
      const cleanItem = clean(item);
      if (cleanItem !== item || cleanKey !== key) {
        copy ??= { ...(value as Record<string, unknown>) };
        if (cleanKey !== key) delete copy[key];
        copy[cleanKey] = cleanItem;
      }
    }
    return copy ?? value;
  }
  return value;
}

/** The path of the first string (or key) in `value` that is not well formed, or undefined. */
export function illFormedPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.isWellFormed() ? undefined : path || '(root)';
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = illFormedPath(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const key in value) {
      const shown = key.toWellFormed();
      const at = path ? `${path}.${shown}` : shown;
      if (!key.isWellFormed()) return at;
      const found = illFormedPath((value as Record<string, unknown>)[key], at);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
