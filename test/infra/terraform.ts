import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/**
 * A Terraform module read without Terraform (no binary can be downloaded here): @cdktf/hcl2json
 * turns each .tf file into JSON (blocks become arrays of bodies, expressions `${…}` strings), and
 * the helpers below find the references inside those expressions.
 */
export type Body = Record<string, unknown>;

export interface Block {
  file: string;
  /** `resource`, `data`, `module`, `variable`, `output`, `provider`, `terraform`. */
  kind: string;
  /** Resource and data type (`google_pubsub_topic`); undefined for the other kinds. */
  type?: string;
  name: string;
  body: Body;
}

export interface TfModule {
  dir: string;
  /** File name → raw text, for checks on comments (which the JSON drops). */
  texts: Map<string, string>;
  blocks: Block[];
  locals: Map<string, unknown>;
}

export async function loadModule(dir: string): Promise<TfModule> {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.tf'))
    .sort();
  const module: TfModule = { dir, texts: new Map(), blocks: [], locals: new Map() };
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    module.texts.set(file, text);
    const json = (await parse(file, text)) as Record<string, unknown>;
    for (const [kind, value] of Object.entries(json)) {
      if (kind === 'locals') {
        for (const body of value as Body[])
          for (const [name, v] of Object.entries(body)) module.locals.set(name, v);
      } else if (kind === 'resource' || kind === 'data') {
        for (const [type, byName] of Object.entries(value as Record<string, Record<string, Body[]>>)) {
          for (const [name, bodies] of Object.entries(byName)) {
            for (const body of bodies) module.blocks.push({ file, kind, type, name, body });
          }
        }
      } else if (kind === 'terraform') {
        for (const body of value as Body[]) module.blocks.push({ file, kind, name: 'terraform', body });
      } else {
        for (const [name, bodies] of Object.entries(value as Record<string, Body[]>)) {
          for (const body of bodies) module.blocks.push({ file, kind, name, body });
        }
      }
    }
  }
  return module;
}

export const blocksOf = (module: TfModule, kind: string, type?: string): Block[] =>
  module.blocks.filter((block) => block.kind === kind && (type === undefined || block.type === type));

export function blockNamed(module: TfModule, kind: string, type: string, name: string): Block {
  const block = module.blocks.find((b) => b.kind === kind && b.type === type && b.name === name);
  if (block === undefined) throw new Error(`no ${kind} ${type}.${name} in ${module.dir}`);
  return block;
}

/** The `${…}` expressions of a string (templates inside their string literals stay inside them). */
export function expressionsOf(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  while (true) {
    i = text.indexOf('${', i);
    if (i < 0) return found;
    const end = closingBrace(text, i + 2);
    found.push(text.slice(i + 2, end));
    i = end + 1;
  }
}

/** Index of the `}` closing an expression that starts at `start`, skipping strings and nested braces. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') i = closingQuote(text, i + 1);
    else if (c === '{') depth += 1;
    else if (c === '}') {
      if (depth === 0) return i;
      depth -= 1;
    }
  }
  throw new Error(`unterminated expression in ${JSON.stringify(text.slice(0, 80))}`);
}

function closingQuote(text: string, start: number): number {
  for (let i = start; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text.startsWith('${', i)) i = closingBrace(text, i + 2);
    else if (text[i] === '"') return i;
  }
  throw new Error(`unterminated string in ${JSON.stringify(text.slice(0, 80))}`);
}

/** Templates inside the string literals of an expression (`"${pair[0]}/${pair[1]}"`). */
function nestedTemplates(expression: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < expression.length; i += 1) {
    if (expression[i] !== '"') continue;
    const end = closingQuote(expression, i + 1);
    found.push(...expressionsOf(expression.slice(i + 1, end)));
    i = end;
  }
  return found;
}

/** The expression with its string literals blanked, so only code is left to scan. */
function codeOf(expression: string): string {
  let out = '';
  for (let i = 0; i < expression.length; i += 1) {
    if (expression[i] === '"') {
      const end = closingQuote(expression, i + 1);
      out += ' '.repeat(end - i + 1);
      i = end;
    } else {
      out += expression[i];
    }
  }
  return out;
}

/** A traversal such as `google_pubsub_topic.topic` or `var.region`: its root and the name after it. */
export interface Reference {
  root: string;
  parts: string[];
  text: string;
}

/**
 * Every traversal of an expression, except those rooted at the names its `for` clauses bind. Each
 * part is an attribute name; index brackets end the traversal (`a.b[each.key].c` gives `a.b`).
 */
export function referencesOf(expression: string, inherited: ReadonlySet<string> = new Set()): Reference[] {
  const code = codeOf(expression);
  const bound = new Set(inherited);
  for (const match of code.matchAll(/\bfor\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b/g)) {
    bound.add(match[1] as string);
    if (match[2]) bound.add(match[2]);
  }
  const references: Reference[] = [];
  for (const match of code.matchAll(/(?<![\w.\])])([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*)+)/g)) {
    const root = match[1] as string;
    if (bound.has(root)) continue;
    references.push({ root, parts: (match[2] as string).slice(1).split('.'), text: match[0] });
  }
  // Templates in the expression's strings see the names its `for` clauses bind.
  for (const nested of nestedTemplates(expression)) references.push(...referencesOf(nested, bound));
  return references;
}

/** Every string of a JSON value, with the path of keys leading to it. */
export function* stringsOf(value: unknown, path: string[] = []): Generator<{ path: string[]; text: string }> {
  if (typeof value === 'string') yield { path, text: value };
  else if (Array.isArray(value)) for (const item of value) yield* stringsOf(item, path);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) yield* stringsOf(item, [...path, key]);
  }
}

const SPECIAL_ROOTS = new Set(['path', 'terraform']);

/**
 * What a module's references point at that it does not declare: `var.X` without a variable,
 * `local.X` without a local, `T.N` / `data.T.N` / `module.N` without that block, `each` outside
 * for_each, `count` outside count, a dynamic block's iterator outside that block. One line each.
 */
export function unresolvedReferences(module: TfModule): string[] {
  const declared = new Set<string>();
  for (const block of module.blocks) {
    if (block.kind === 'resource') declared.add(`${block.type}.${block.name}`);
    if (block.kind === 'data') declared.add(`data.${block.type}.${block.name}`);
    if (block.kind === 'module') declared.add(`module.${block.name}`);
    if (block.kind === 'variable') declared.add(`var.${block.name}`);
  }
  for (const name of module.locals.keys()) declared.add(`local.${name}`);

  const problems: string[] = [];
  const check = (
    where: string,
    text: string,
    scope: { each: boolean; count: boolean; iterators: string[] },
  ) => {
    for (const expression of expressionsOf(text)) {
      for (const ref of referencesOf(expression)) {
        const [first, second] = ref.parts;
        if (SPECIAL_ROOTS.has(ref.root)) continue;
        if (ref.root === 'each') {
          if (!scope.each) problems.push(`${where}: ${ref.text} outside a for_each block`);
          continue;
        }
        if (ref.root === 'count') {
          if (!scope.count) problems.push(`${where}: ${ref.text} outside a count block`);
          continue;
        }
        if (ref.root === 'self' || scope.iterators.includes(ref.root)) continue;
        const key =
          ref.root === 'var' || ref.root === 'local' || ref.root === 'module'
            ? `${ref.root}.${first}`
            : ref.root === 'data'
              ? `data.${first}.${second}`
              : `${ref.root}.${first}`;
        if (!declared.has(key))
          problems.push(`${where}: ${ref.text} refers to ${key}, which is not declared`);
      }
    }
  };

  const walk = (
    where: string,
    value: unknown,
    scope: { each: boolean; count: boolean; iterators: string[] },
  ) => {
    if (typeof value === 'string') {
      check(where, value, scope);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(where, item, scope);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'dynamic') {
          for (const [label, bodies] of Object.entries(item as Record<string, Body[]>)) {
            for (const body of bodies) {
              const iterator = typeof body.iterator === 'string' ? body.iterator : label;
              walk(`${where}.dynamic.${label}`, body, {
                ...scope,
                iterators: [...scope.iterators, iterator],
              });
            }
          }
        } else {
          walk(`${where}.${key}`, item, scope);
        }
      }
    }
  };

  for (const block of module.blocks) {
    const id = [block.kind, block.type, block.name].filter(Boolean).join('.');
    const scope = { each: 'for_each' in block.body, count: 'count' in block.body, iterators: [] };
    walk(`${block.file}: ${id}`, block.body, scope);
  }
  for (const [name, value] of module.locals)
    walk(`locals.${name}`, value, { each: false, count: false, iterators: [] });
  return problems;
}

/** Every `var.X` the module reads anywhere. */
export function variablesUsed(module: TfModule): Set<string> {
  const used = new Set<string>();
  // A variable's own validation does not count as a use.
  const values: unknown[] = [
    ...module.blocks.filter((b) => b.kind !== 'variable').map((b) => b.body),
    ...module.locals.values(),
  ];
  for (const value of values) {
    for (const { text } of stringsOf(value)) {
      for (const expression of expressionsOf(text)) {
        for (const ref of referencesOf(expression)) if (ref.root === 'var') used.add(ref.parts[0] as string);
      }
    }
  }
  return used;
}
