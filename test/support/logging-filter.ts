/**
 * A small evaluator of the part of the Logging query language that sink filters here use, so tests,
 * the fakes and the symptoms bench (test code, never deployed) can run log entries through a filter as the Log Router would:
 * https://cloud.google.com/logging/docs/view/logging-query-language
 *
 * - `AND`, `OR`, `NOT` (upper case) and parentheses; a missing operator between two terms is `AND`;
 *   `NOT` binds tightest, then `OR`, then `AND` (`a OR b AND c` is `(a OR b) AND c`);
 * - comparisons `FIELD OP VALUE` with OP one of `=`, `!=`, `:` (has: substring), `=~`, `!~` (RE2
 *   regular expression, unanchored), `<`, `<=`, `>`, `>=`; VALUE a quoted string, a bare word, or a
 *   parenthesized list of values joined by OR / AND (`field=("a" OR "b")`); `FIELD:*` is true when
 *   the field exists;
 * - ordering compares severities by level (`severity>=ERROR`: a name or its number), numbers as
 *   numbers, RFC 3339 timestamps as instants; anything else is unordered, so the comparison is false;
 * - FIELD a dotted path into the entry (`protoPayload.methodName`, `labels."k8s-pod/app"`); a
 *   repeated field matches when any element does;
 * - an entry without a severity has the DEFAULT one, for `=` and for ordering (proto3 JSON omits it);
 * - string comparisons ignore case, regular expressions do not; `!=` and `!~` are the negations of
 *   `=` and `=~` (so they hold for a missing field).
 *
 * Anything else (global restrictions, functions) is refused with an error naming its position, so a
 * filter that uses more than this evaluates nothing silently.
 */

export type FilterNode =
  | { type: 'and' | 'or'; children: FilterNode[] }
  | { type: 'not'; child: FilterNode }
  | { type: 'compare'; path: string[]; op: Operator; value: ValueNode };

type Operator = '=' | '!=' | ':' | '=~' | '!~' | Ordering;
type Ordering = '<' | '<=' | '>' | '>=';
type ValueNode = { type: 'value'; text: string } | { type: 'and' | 'or'; values: ValueNode[] };

type Token =
  | { kind: 'string'; text: string; at: number }
  | { kind: 'word'; text: string; segments: string[]; at: number }
  | { kind: 'op'; text: Operator; at: number }
  | { kind: '(' | ')'; at: number };

export class FilterSyntaxError extends Error {}

// Longest first, so `>=` is not read as `>`.
const OPERATORS: Operator[] = ['=~', '!~', '!=', '<=', '>=', '=', ':', '<', '>'];

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i] as string;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c, at: i });
      i += 1;
    } else if (c === '"') {
      const start = i;
      let text = '';
      i += 1;
      while (i < filter.length && filter[i] !== '"') {
        // \" and \\ are escapes; any other backslash is kept, so regular expressions read as written.
        if (filter[i] === '\\' && (filter[i + 1] === '"' || filter[i + 1] === '\\')) i += 1;
        text += filter[i];
        i += 1;
      }
      if (i >= filter.length) throw new FilterSyntaxError(`unterminated string at ${start}`);
      i += 1;
      tokens.push({ kind: 'string', text, at: start });
    } else {
      const op = OPERATORS.find((candidate) => filter.startsWith(candidate, i));
      if (op !== undefined) {
        tokens.push({ kind: 'op', text: op, at: i });
        i += op.length;
        continue;
      }
      const start = i;
      const segments = readPath(filter, i);
      if (segments === undefined) throw new FilterSyntaxError(`unexpected ${JSON.stringify(c)} at ${i}`);
      i = segments.end;
      tokens.push({ kind: 'word', text: filter.slice(start, i), segments: segments.path, at: start });
    }
  }
  return tokens;
}

/**
 * A bare word or field path from `start`: dot-separated segments, each bare (`protoPayload`) or
 * quoted (`labels."k8s-pod/app"`, the form for keys holding dots or slashes).
 */
function readPath(filter: string, start: number): { path: string[]; end: number } | undefined {
  const path: string[] = [];
  let i = start;
  for (;;) {
    if (filter[i] === '"' && path.length > 0) {
      const close = filter.indexOf('"', i + 1);
      if (close < 0) throw new FilterSyntaxError(`unterminated field name at ${i}`);
      path.push(filter.slice(i + 1, close));
      i = close + 1;
    } else {
      const bare = /^[^\s()".=!:<>]+/.exec(filter.slice(i))?.[0];
      if (bare === undefined) return path.length === 0 ? undefined : { path, end: i };
      path.push(bare);
      i += bare.length;
    }
    if (filter[i] !== '.') return { path, end: i };
    i += 1;
  }
}

/** Parses a filter into a tree; throws FilterSyntaxError naming the position of what it cannot read. */
export function parseFilter(filter: string): FilterNode {
  const tokens = tokenize(filter);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (text: string) => {
    const token = peek();
    return token?.kind === 'word' && token.text === text;
  };
  const where = () => {
    const token = peek();
    return token === undefined ? 'the end' : `${token.at}`;
  };

  // expression := disjunction { ["AND"] disjunction }
  function expression(): FilterNode {
    const children = [disjunction()];
    for (;;) {
      const token = peek();
      if (token === undefined || token.kind === ')') break;
      if (isWord('AND')) pos += 1;
      children.push(disjunction());
    }
    return children.length === 1 ? (children[0] as FilterNode) : { type: 'and', children };
  }

  // disjunction := negation { "OR" negation }
  function disjunction(): FilterNode {
    const children = [negation()];
    while (isWord('OR')) {
      pos += 1;
      children.push(negation());
    }
    return children.length === 1 ? (children[0] as FilterNode) : { type: 'or', children };
  }

  function negation(): FilterNode {
    if (isWord('NOT')) {
      pos += 1;
      return { type: 'not', child: negation() };
    }
    return primary();
  }

  function primary(): FilterNode {
    const token = peek();
    if (token === undefined) throw new FilterSyntaxError('unexpected end of filter');
    if (token.kind === '(') {
      pos += 1;
      const inner = expression();
      if (peek()?.kind !== ')') throw new FilterSyntaxError(`expected ) at ${where()}`);
      pos += 1;
      return inner;
    }
    if (token.kind !== 'word' || ['AND', 'OR', 'NOT'].includes(token.text)) {
      throw new FilterSyntaxError(`expected a field at ${token.at}`);
    }
    pos += 1;
    const op = peek();
    if (op?.kind !== 'op') {
      throw new FilterSyntaxError(
        `global restriction ${JSON.stringify(token.text)} at ${token.at} is not supported`,
      );
    }
    pos += 1;
    return { type: 'compare', path: token.segments, op: op.text, value: value() };
  }

  // value := string | word | "(" value { ("OR" | "AND") value } ")"
  function value(): ValueNode {
    const token = peek();
    if (token === undefined) throw new FilterSyntaxError('expected a value at the end');
    if (token.kind === 'string' || (token.kind === 'word' && !['AND', 'OR', 'NOT'].includes(token.text))) {
      pos += 1;
      return { type: 'value', text: token.text };
    }
    if (token.kind !== '(') throw new FilterSyntaxError(`expected a value at ${token.at}`);
    pos += 1;
    const values = [value()];
    let joiner: 'and' | 'or' | undefined;
    while (isWord('OR') || isWord('AND')) {
      const next = (peek() as { text: string }).text === 'OR' ? 'or' : 'and';
      if (joiner !== undefined && joiner !== next) {
        throw new FilterSyntaxError(`mixed AND and OR in a value list at ${where()}: add parentheses`);
      }
      joiner = next;
      pos += 1;
      values.push(value());
    }
    if (peek()?.kind !== ')') throw new FilterSyntaxError(`expected ) at ${where()}`);
    pos += 1;
    return values.length === 1 ? (values[0] as ValueNode) : { type: joiner ?? 'or', values };
  }

  const tree = expression();
  if (pos < tokens.length) throw new FilterSyntaxError(`unexpected ${JSON.stringify(peek())} at ${where()}`);
  return tree;
}

function valuesAt(entry: unknown, path: string[]): unknown[] {
  let current: unknown[] = [entry];
  for (const key of path) {
    const next: unknown[] = [];
    for (const item of current) {
      const items = Array.isArray(item) ? item : [item];
      for (const element of items) {
        if (typeof element === 'object' && element !== null && Object.hasOwn(element, key)) {
          next.push((element as Record<string, unknown>)[key]);
        }
      }
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? value : [value]));
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function matchValue(node: ValueNode, test: (text: string) => boolean): boolean {
  if (node.type === 'value') return test(node.text);
  return node.type === 'or'
    ? node.values.some((value) => matchValue(value, test))
    : node.values.every((value) => matchValue(value, test));
}

/** LogSeverity levels: https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#logseverity */
const SEVERITY_LEVELS: Record<string, number> = {
  DEFAULT: 0,
  DEBUG: 100,
  INFO: 200,
  NOTICE: 300,
  WARNING: 400,
  ERROR: 500,
  CRITICAL: 600,
  ALERT: 700,
  EMERGENCY: 800,
};

function severityLevel(text: string): number | undefined {
  const named = SEVERITY_LEVELS[text.toUpperCase()];
  if (named !== undefined) return named;
  const number = Number(text);
  return text.trim() !== '' && Number.isFinite(number) ? number : undefined;
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

/** Two texts as comparable numbers: severity levels, numbers, or instants; undefined when unordered. */
function ordered(found: string, wanted: string, isSeverity: boolean): [number, number] | undefined {
  if (isSeverity) {
    const [a, b] = [severityLevel(found), severityLevel(wanted)];
    return a === undefined || b === undefined ? undefined : [a, b];
  }
  const [a, b] = [Number(found), Number(wanted)];
  if (found.trim() !== '' && wanted.trim() !== '' && Number.isFinite(a) && Number.isFinite(b)) return [a, b];
  if (RFC3339.test(found) && RFC3339.test(wanted)) return [Date.parse(found), Date.parse(wanted)];
  return undefined;
}

const ORDERINGS: Record<Ordering, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function compare(found: unknown[], op: Operator, value: ValueNode, path: string[] = []): boolean {
  const strings = found.map(scalar).filter((s): s is string => s !== undefined);
  switch (op) {
    case '=': {
      // An entry written without a severity has the DEFAULT one (proto3 JSON omits it).
      const texts =
        path.length === 1 && path[0] === 'severity' && strings.length === 0 ? ['DEFAULT'] : strings;
      return matchValue(value, (text) => texts.some((s) => s.toLowerCase() === text.toLowerCase()));
    }
    case '!=':
      return !compare(found, '=', value, path);
    case ':':
      return matchValue(value, (text) =>
        text === '*' ? found.length > 0 : strings.some((s) => s.toLowerCase().includes(text.toLowerCase())),
      );
    case '=~':
      return matchValue(value, (text) => strings.some((s) => new RegExp(text).test(s)));
    case '!~':
      return !compare(found, '=~', value);
    default: {
      // An entry written without a severity has the DEFAULT one.
      const isSeverity = path.length === 1 && path[0] === 'severity';
      const texts = isSeverity && strings.length === 0 ? ['DEFAULT'] : strings;
      return matchValue(value, (text) =>
        texts.some((s) => {
          const pair = ordered(s, text, isSeverity);
          return pair !== undefined && ORDERINGS[op](pair[0], pair[1]);
        }),
      );
    }
  }
}

export function evaluate(node: FilterNode, entry: unknown): boolean {
  switch (node.type) {
    case 'and':
      return node.children.every((child) => evaluate(child, entry));
    case 'or':
      return node.children.some((child) => evaluate(child, entry));
    case 'not':
      return !evaluate(node.child, entry);
    case 'compare':
      return compare(valuesAt(entry, node.path), node.op, node.value, node.path);
  }
}

/** Parses once; the returned function tells whether an entry passes the filter. */
export function compileFilter(filter: string): (entry: unknown) => boolean {
  const tree = parseFilter(filter);
  return (entry) => evaluate(tree, entry);
}
