import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { attributeOf, blocksOfType, type HclBlock, type HclBody, readHcl } from './hcl.ts';

/**
 * What `terraform validate` would reject, checked without Terraform (none can be downloaded here)
 * against a provider's schema rebuilt from its cdktf bindings (provider-schemas/extract.ts):
 *
 * - resource and data source types exist;
 * - every argument and block name exists, arguments are written as arguments and blocks as blocks,
 *   required arguments and blocks are there, a block that takes one item is not repeated, and no
 *   argument the provider computes is set;
 * - literal values of documented enums (both arms of `c ? "a" : "b"`, each item of a list);
 * - references: `T.N` of a resource with count or for_each is indexed and one without is not, and
 *   each attribute after it exists, list blocks are indexed (`service_config[0].uri`) and sets are not;
 * - local module calls set only declared variables and every required one, and read declared outputs;
 * - the provider version pins (checkVersionPins): the oldest version they admit is the oldest schema
 *   checked, and they admit no major version beyond the newest.
 *
 * Run it once per schema at each end of the pin: an argument that came with a later release (the
 * floor's schema lacks it) is caught by the floor's run.
 */

/** A provider's schema as provider-schemas/extract.ts writes it. */
export interface AttributeSchema {
  type: 'string' | 'number' | 'bool' | 'list' | 'set' | 'map' | 'object' | 'any';
  required?: true;
  optional?: true;
  /** Set by the provider only: writing it is an error. */
  computed?: true;
  /** The enum, when the provider documents one (of each item, for lists). */
  values?: string[];
  /** Attributes of each element, for objects and collections of objects. */
  object?: Record<string, AttributeSchema>;
}

export interface NestedBlockSchema {
  nesting: 'list' | 'set' | 'single';
  minItems?: number;
  maxItems?: number;
  block: BlockSchema;
}

export interface BlockSchema {
  attributes: Record<string, AttributeSchema>;
  blocks: Record<string, NestedBlockSchema>;
}

export interface ProviderSchema {
  /** The npm package it was rebuilt from: `@cdktf/provider-google@16.12.1`. */
  source: string;
  /** `hashicorp/google` */
  provider: string;
  version: string;
  /** Every type's name, those trimmed out included. */
  resourceTypes: string[];
  dataSourceTypes: string[];
  providerConfig?: BlockSchema;
  /** The types kept in full. */
  resources: Record<string, BlockSchema>;
  dataSources: Record<string, BlockSchema>;
}

export type ProblemKind =
  | 'syntax'
  | 'unknown-type'
  | 'untrimmed-type'
  | 'unknown-argument'
  | 'unknown-block'
  | 'argument-as-block'
  | 'block-as-argument'
  | 'missing-argument'
  | 'missing-block'
  | 'too-many-blocks'
  | 'read-only'
  | 'enum'
  | 'reference'
  | 'instance-key'
  | 'module-call'
  | 'version';

export interface Problem {
  kind: ProblemKind;
  file: string;
  line: number;
  message: string;
}

export const describeProblem = (problem: Problem): string =>
  `${problem.file}:${problem.line}: ${problem.message} [${problem.kind}]`;

/** A module as files: name → text (the directory's .tf files). */
export type ModuleFiles = Map<string, string>;

export function readModuleFiles(dir: string): ModuleFiles {
  const files: ModuleFiles = new Map();
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.tf'))
    .sort()) {
    files.set(file, readFileSync(join(dir, file), 'utf8'));
  }
  return files;
}

export interface CheckOptions {
  /** One schema per provider the module uses (a type `google_x` is the `google` provider's). */
  schemas: ProviderSchema[];
  /** The files of a locally called module, by its directory (resolved against the caller's). */
  loadModule?: (dir: string) => ModuleFiles | undefined;
}

// ----------------------------------------------------------------------------- the module

interface Located {
  file: string;
  block: HclBlock;
}

interface Parsed {
  dir: string;
  blocks: Located[];
  problems: Problem[];
}

function parse(dir: string, files: ModuleFiles): Parsed {
  const parsed: Parsed = { dir, blocks: [], problems: [] };
  for (const [file, text] of files) {
    try {
      for (const block of readHcl(text, file).blocks) parsed.blocks.push({ file, block });
    } catch (error) {
      const line = Number(/:(\d+):/.exec((error as Error).message)?.[1] ?? 1);
      parsed.problems.push({ kind: 'syntax', file, line, message: (error as Error).message });
    }
  }
  return parsed;
}

/** Terraform's built-in `terraform_data` (no provider to download). */
const BUILTIN: Record<string, BlockSchema> = {
  terraform_data: {
    attributes: {
      id: { type: 'string', computed: true },
      input: { type: 'any', optional: true },
      output: { type: 'any', computed: true },
      triggers_replace: { type: 'any', optional: true },
    },
    blocks: {},
  },
};

const RESOURCE_META_ARGUMENTS = new Set(['count', 'for_each', 'depends_on', 'provider']);
const RESOURCE_META_BLOCKS = new Set(['lifecycle', 'provisioner', 'connection']);
const MODULE_META_ARGUMENTS = new Set(['source', 'version', 'providers', 'count', 'for_each', 'depends_on']);

/** `google_pubsub_topic` → `google`: Terraform's default provider for a type is its first word. */
const providerOf = (type: string): string => type.split('_')[0] as string;
const localName = (schema: ProviderSchema): string => schema.provider.split('/').at(-1) as string;

export function checkModule(dir: string, files: ModuleFiles, options: CheckOptions): Problem[] {
  const parsed = parse(dir, files);
  const problems = [...parsed.problems];
  const schemas = new Map(options.schemas.map((schema) => [localName(schema), schema]));
  const resources = new Map<string, { located: Located; indexed: boolean; schema?: BlockSchema }>();
  const dataSources = new Map<string, { located: Located; indexed: boolean; schema?: BlockSchema }>();
  const modules = new Map<string, { located: Located; outputs?: Set<string> }>();
  const report = (kind: ProblemKind, file: string, line: number, message: string) =>
    problems.push({ kind, file, line, message });

  const typeSchema = (kind: 'resource' | 'data', type: string, at: Located): BlockSchema | undefined => {
    if (kind === 'resource' && BUILTIN[type]) return BUILTIN[type];
    const schema = schemas.get(providerOf(type));
    const what = kind === 'resource' ? 'resource type' : 'data source type';
    if (schema === undefined) {
      report(
        'unknown-type',
        at.file,
        at.block.line,
        `${what} ${type}: no schema of a provider ${providerOf(type)} to check it against`,
      );
      return undefined;
    }
    const known = kind === 'resource' ? schema.resourceTypes : schema.dataSourceTypes;
    const full = kind === 'resource' ? schema.resources[type] : schema.dataSources[type];
    if (!known.includes(type)) {
      report(
        'unknown-type',
        at.file,
        at.block.line,
        `${what} ${type} does not exist in ${schema.provider} ${schema.version}`,
      );
      return undefined;
    }
    if (full === undefined) {
      report(
        'untrimmed-type',
        at.file,
        at.block.line,
        `${what} ${type} exists in ${schema.provider} ${schema.version} but is not in the trimmed schema: run test/infra/provider-schemas/extract.ts again`,
      );
    }
    return full;
  };

  // Declarations first: references need them all.
  for (const located of parsed.blocks) {
    const { block, file } = located;
    const indexed =
      attributeOf(block.body, 'for_each') !== undefined || attributeOf(block.body, 'count') !== undefined;
    if (block.type === 'resource' || block.type === 'data') {
      const [type, name] = block.labels;
      if (type === undefined || name === undefined || block.labels.length !== 2) {
        report('syntax', file, block.line, `${block.type} needs two labels, a type and a name`);
        continue;
      }
      const schema = typeSchema(block.type, type, located);
      const entry = { located, indexed, ...(schema ? { schema } : {}) };
      (block.type === 'resource' ? resources : dataSources).set(`${type}.${name}`, entry);
    } else if (block.type === 'module') {
      const name = block.labels[0] ?? '';
      const outputs = checkModuleCall(parsed.dir, located, options, report);
      modules.set(name, { located, ...(outputs ? { outputs } : {}) });
    }
  }

  for (const [, { located, schema }] of [...resources, ...dataSources]) {
    if (schema === undefined) continue;
    const [type] = located.block.labels as [string];
    checkBody(
      schema,
      located.block.body,
      { file: located.file, path: type, meta: located.block.type },
      report,
    );
  }
  for (const { file, block } of parsed.blocks.filter((b) => b.block.type === 'provider')) {
    const schema = schemas.get(block.labels[0] ?? '');
    if (schema?.providerConfig === undefined) continue;
    checkBody(
      schema.providerConfig,
      block.body,
      { file, path: `provider ${block.labels[0]}`, meta: 'provider' },
      report,
    );
  }

  // Every expression anywhere, for its references.
  const visit = (file: string, body: HclBody) => {
    for (const attribute of body.attributes) {
      for (const traversal of traversalsOf(attribute.expression)) {
        checkTraversal(traversal, { resources, dataSources, modules }, (kind, message) =>
          report(kind, file, attribute.line, message),
        );
      }
    }
    for (const block of body.blocks) visit(file, block.body);
  };
  for (const { file, block } of parsed.blocks) visit(file, block.body);
  return problems;
}

// ----------------------------------------------------------------------------- bodies

interface Where {
  file: string;
  /** `google_pubsub_subscription.push_config`, for messages. */
  path: string;
  /** The kind of top-level block, for its meta-arguments; undefined for nested blocks. */
  meta?: string;
}

type Report = (kind: ProblemKind, file: string, line: number, message: string) => void;

function checkBody(schema: BlockSchema, body: HclBody, where: Where, report: Report): void {
  const isResource = where.meta === 'resource' || where.meta === 'data';
  const present = new Set<string>();
  for (const attribute of body.attributes) {
    const { name, line } = attribute;
    if (isResource && RESOURCE_META_ARGUMENTS.has(name)) continue;
    if (where.meta === 'provider' && name === 'alias') continue;
    const argument = schema.attributes[name];
    if (argument !== undefined) {
      present.add(name);
      if (argument.computed && !argument.optional && !argument.required) {
        report(
          'read-only',
          where.file,
          line,
          `${where.path}.${name} is set by the provider, it cannot be written`,
        );
      }
      if (argument.values)
        checkEnum(attribute.expression, argument.values, `${where.path}.${name}`, (message) =>
          report('enum', where.file, line, message),
        );
    } else if (schema.blocks[name] !== undefined) {
      report(
        'block-as-argument',
        where.file,
        line,
        `${where.path}.${name} is a block: write ${name} { … }, not ${name} = …`,
      );
    } else {
      report(
        'unknown-argument',
        where.file,
        line,
        `${where.path}.${name}: unsupported argument (not in the provider schema)`,
      );
    }
  }
  const counts = new Map<string, number>();
  for (const block of body.blocks) {
    if (isResource && RESOURCE_META_BLOCKS.has(block.type)) continue;
    let name = block.type;
    let content: HclBody | undefined = block.body;
    if (block.type === 'dynamic') {
      name = block.labels[0] ?? '';
      content = blocksOfType(block.body, 'content')[0]?.body;
      if (attributeOf(block.body, 'for_each') === undefined || content === undefined) {
        report('syntax', where.file, block.line, `dynamic "${name}" needs for_each and a content block`);
      }
    }
    const nested = schema.blocks[name];
    if (nested !== undefined) {
      present.add(name);
      if (block.type !== 'dynamic') counts.set(name, (counts.get(name) ?? 0) + 1);
      if (content)
        checkBody(nested.block, content, { file: where.file, path: `${where.path}.${name}` }, report);
    } else if (schema.attributes[name] !== undefined) {
      report(
        'argument-as-block',
        where.file,
        block.line,
        `${where.path}.${name} is an argument: write ${name} = …, not a block`,
      );
    } else {
      report(
        'unknown-block',
        where.file,
        block.line,
        `${where.path}.${name}: unsupported block (not in the provider schema)`,
      );
    }
  }
  const line = body.attributes[0]?.line ?? body.blocks[0]?.line ?? 0;
  for (const [name, attribute] of Object.entries(schema.attributes)) {
    if (attribute.required && !present.has(name)) {
      report('missing-argument', where.file, line, `${where.path}: the required argument ${name} is missing`);
    }
  }
  for (const [name, nested] of Object.entries(schema.blocks)) {
    if ((nested.minItems ?? 0) > 0 && !present.has(name)) {
      report('missing-block', where.file, line, `${where.path}: the required block ${name} is missing`);
    }
    const count = counts.get(name) ?? 0;
    if (nested.maxItems !== undefined && count > nested.maxItems) {
      report(
        'too-many-blocks',
        where.file,
        line,
        `${where.path}.${name} takes at most ${nested.maxItems} block, found ${count}`,
      );
    }
  }
}

function checkEnum(
  expression: string,
  values: string[],
  path: string,
  report: (message: string) => void,
): void {
  for (const value of literalStrings(expression)) {
    if (!values.includes(value)) {
      report(
        `${path} = ${JSON.stringify(value)} is not one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
      );
    }
  }
}

/**
 * The literal strings an expression may take: a plain string, both arms of a conditional, each
 * item of a list of them. Anything computed is left out (it cannot be judged here).
 */
export function literalStrings(expression: string): string[] {
  const text = expression.trim();
  const plain = /^"((?:[^"\\$%]|\\.)*)"$/.exec(text);
  if (plain) return [JSON.parse(`"${plain[1]}"`) as string];
  const parts = splitTopLevel(text, '?');
  if (parts.length === 2) {
    const arms = splitTopLevel(parts[1] as string, ':');
    if (arms.length === 2) return arms.flatMap(literalStrings);
  }
  const list = /^\[([\s\S]*)\]$/.exec(text);
  if (list) {
    return splitTopLevel(list[1] as string, ',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .flatMap(literalStrings);
  }
  return [];
}

/** Splits at `separator` outside strings and brackets (the first occurrence for `?`, all for others). */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') i = stringEnd(text, i);
    else if (c === '(' || c === '[' || c === '{') depth += 1;
    else if (c === ')' || c === ']' || c === '}') depth -= 1;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(from, i));
      from = i + 1;
      if (separator === '?') break;
    }
  }
  parts.push(text.slice(from));
  return parts;
}

/** Index of the quote closing the string that opens at `start`, templates skipped. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if ((text[i] === '$' || text[i] === '%') && text[i + 1] === '{') i = templateEnd(text, i + 2);
    else if (text[i] === '"') return i;
  }
  return text.length;
}

function templateEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i += 1) {
    if (text[i] === '"') i = stringEnd(text, i);
    else if (text[i] === '{') depth += 1;
    else if (text[i] === '}') {
      if (depth === 0) return i;
      depth -= 1;
    }
  }
  return text.length;
}

// ----------------------------------------------------------------------------- references

export type Step = { kind: 'attribute'; name: string } | { kind: 'index'; key: string } | { kind: 'splat' };

export interface Traversal {
  root: string;
  steps: Step[];
  text: string;
}

const KEYWORDS = new Set(['for', 'in', 'if', 'true', 'false', 'null']);

/**
 * Every traversal in an expression (`google_x.y["k"].a[0].b`), those inside string templates and
 * index brackets included. Function calls are not traversals; their arguments are scanned.
 */
export function traversalsOf(expression: string): Traversal[] {
  const found: Traversal[] = [];
  const text = expression;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      const end = stringEnd(text, i);
      found.push(...templatesOf(text.slice(i + 1, end)).flatMap(traversalsOf));
      i = end + 1;
      continue;
    }
    if (c === '<' && text.startsWith('<<', i)) {
      // A heredoc's templates are expressions too; its text is not.
      const end = text.length;
      found.push(...templatesOf(text.slice(i, end)).flatMap(traversalsOf));
      return found;
    }
    const previous = text[i - 1] ?? ' ';
    if (/[A-Za-z_]/.test(c) && !/[\w.\])-]/.test(previous)) {
      const match = /^[A-Za-z_][\w-]*/.exec(text.slice(i)) as RegExpExecArray;
      const root = match[0];
      let at = i + root.length;
      if (text[at] === '(' || KEYWORDS.has(root) || /^\s*\(/.test(text.slice(at, at + 2))) {
        i = at;
        continue;
      }
      const steps: Step[] = [];
      while (at < text.length) {
        if (text[at] === '.' && text[at + 1] === '*') {
          steps.push({ kind: 'splat' });
          at += 2;
        } else if (text[at] === '.' && /[A-Za-z_]/.test(text[at + 1] ?? '')) {
          const name = (/^[A-Za-z_][\w-]*/.exec(text.slice(at + 1)) as RegExpExecArray)[0];
          steps.push({ kind: 'attribute', name });
          at += 1 + name.length;
        } else if (text[at] === '.' && /\d/.test(text[at + 1] ?? '')) {
          const digits = (/^\d+/.exec(text.slice(at + 1)) as RegExpExecArray)[0];
          steps.push({ kind: 'index', key: digits });
          at += 1 + digits.length;
        } else if (text[at] === '[') {
          const end = bracketEnd(text, at);
          const key = text.slice(at + 1, end).trim();
          if (key === '*') steps.push({ kind: 'splat' });
          else {
            steps.push({ kind: 'index', key });
            found.push(...traversalsOf(key));
          }
          at = end + 1;
        } else break;
      }
      found.push({ root, steps, text: text.slice(i, at) });
      i = at;
      continue;
    }
    i += 1;
  }
  return found;
}

function bracketEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') i = stringEnd(text, i);
    else if (c === '[' || c === '(' || c === '{') depth += 1;
    else if (c === ']' || c === ')' || c === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return text.length;
}

/** The `${…}` and `%{…}` contents of a string's text. */
function templatesOf(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if ((text[i] === '$' || text[i] === '%') && text[i + 1] === '{') {
      const end = templateEnd(text, i + 2);
      found.push(text.slice(i + 2, end).replace(/^~|~$/g, ''));
      i = end;
    }
  }
  return found;
}

interface Declared {
  resources: Map<string, { indexed: boolean; schema?: BlockSchema }>;
  dataSources: Map<string, { indexed: boolean; schema?: BlockSchema }>;
  modules: Map<string, { outputs?: Set<string> }>;
}

function checkTraversal(
  traversal: Traversal,
  declared: Declared,
  report: (kind: ProblemKind, message: string) => void,
): void {
  let steps = traversal.steps;
  let address: string;
  let entry: { indexed: boolean; schema?: BlockSchema } | undefined;
  if (traversal.root === 'module') {
    const [name, rest] = [steps[0], steps.slice(1)];
    if (name?.kind !== 'attribute') return;
    const module = declared.modules.get(name.name);
    if (module?.outputs === undefined) return;
    let at = 0;
    if (rest[0]?.kind === 'index') at = 1;
    const output = rest[at];
    if (output?.kind === 'attribute' && !module.outputs.has(output.name)) {
      report('reference', `${traversal.text}: module ${name.name} has no output ${output.name}`);
    }
    return;
  }
  if (traversal.root === 'data') {
    const [type, name] = steps;
    if (type?.kind !== 'attribute' || name?.kind !== 'attribute') return;
    address = `data.${type.name}.${name.name}`;
    entry = declared.dataSources.get(`${type.name}.${name.name}`);
    steps = steps.slice(2);
  } else {
    const isType = [...declared.resources.keys()].some((key) => key.startsWith(`${traversal.root}.`));
    if (!isType) return;
    const name = steps[0];
    if (name?.kind !== 'attribute') return;
    address = `${traversal.root}.${name.name}`;
    entry = declared.resources.get(address);
    steps = steps.slice(1);
  }
  if (entry === undefined) {
    report('reference', `${traversal.text} refers to ${address}, which is not declared`);
    return;
  }
  const first = steps[0];
  if (entry.indexed) {
    if (first === undefined) return;
    if (first.kind === 'attribute') {
      report(
        'instance-key',
        `${traversal.text}: ${address} has count or for_each, so it is a collection: index it (${address}[KEY].${first.name})`,
      );
      return;
    }
    steps = steps.slice(1);
  } else if (first !== undefined && first.kind !== 'attribute') {
    report(
      'instance-key',
      `${traversal.text}: ${address} has neither count nor for_each, so it cannot be indexed`,
    );
    return;
  }
  if (entry.schema === undefined) return;
  walkSchema(entry.schema, steps, address, traversal.text, (message) => report('reference', message));
}

/** Follows attribute steps through a block schema, reporting the first one that does not fit. */
function walkSchema(
  schema: BlockSchema,
  steps: Step[],
  address: string,
  text: string,
  report: (message: string) => void,
): void {
  let scope: { block?: BlockSchema; object?: Record<string, AttributeSchema> } = { block: schema };
  let path = address;
  for (let i = 0; i < steps.length; i += 1) {
    const step = steps[i] as Step;
    if (step.kind !== 'attribute') {
      report(`${text}: ${path} is not a collection, it cannot be indexed`);
      return;
    }
    const { name } = step;
    const next = steps[i + 1];
    const nested = scope.block?.blocks[name];
    const attribute = (scope.block ? scope.block.attributes : scope.object)?.[name];
    const here = `${path}.${name}`;
    if (nested !== undefined) {
      if (nested.nesting === 'single') {
        scope = { block: nested.block };
        path = here;
        continue;
      }
      if (next === undefined) return;
      if (nested.nesting === 'set' && next.kind !== 'splat') {
        report(
          `${text}: ${here} is a set of blocks, it cannot be indexed or read as one (use a for expression, [*] or one())`,
        );
        return;
      }
      if (next.kind === 'attribute') {
        report(`${text}: ${here} is a list of blocks: index it (${name}[0].${next.name})`);
        return;
      }
      scope = { block: nested.block };
      path = `${here}[…]`;
      i += 1;
      continue;
    }
    if (attribute === undefined) {
      report(`${text}: ${path} has no attribute ${name}`);
      return;
    }
    // A value without nested attributes: whatever follows indexes into it, which the schema cannot judge.
    if (attribute.object === undefined || next === undefined) return;
    if (attribute.type === 'object') {
      scope = { object: attribute.object };
      path = here;
      continue;
    }
    if (attribute.type === 'set' && next.kind !== 'splat') {
      report(`${text}: ${here} is a set, it cannot be indexed (use a for expression, [*] or one())`);
      return;
    }
    if (attribute.type === 'list' && next.kind === 'attribute') {
      report(`${text}: ${here} is a list: index it (${name}[0].${next.name})`);
      return;
    }
    scope = { object: attribute.object };
    path = `${here}[…]`;
    i += 1;
  }
}

// ----------------------------------------------------------------------------- module calls

function checkModuleCall(
  dir: string,
  located: Located,
  options: CheckOptions,
  report: Report,
): Set<string> | undefined {
  const { block, file } = located;
  const source = literalStrings(attributeOf(block.body, 'source')?.expression ?? '')[0];
  if (source === undefined || !(source.startsWith('./') || source.startsWith('../')) || !options.loadModule)
    return undefined;
  const called = options.loadModule(resolve(dir, source));
  if (called === undefined) {
    report('module-call', file, block.line, `module ${block.labels[0]}: no module at ${source}`);
    return undefined;
  }
  const variables = new Map<string, HclBlock>();
  const outputs = new Set<string>();
  for (const [name, text] of called) {
    let body: HclBody;
    try {
      body = readHcl(text, name);
    } catch {
      continue; // reported when that module is checked itself
    }
    for (const variable of blocksOfType(body, 'variable')) variables.set(variable.labels[0] ?? '', variable);
    for (const output of blocksOfType(body, 'output')) outputs.add(output.labels[0] ?? '');
  }
  const given = new Set<string>();
  for (const attribute of block.body.attributes) {
    if (MODULE_META_ARGUMENTS.has(attribute.name)) continue;
    given.add(attribute.name);
    if (!variables.has(attribute.name)) {
      report(
        'module-call',
        file,
        attribute.line,
        `module ${block.labels[0]} declares no variable ${attribute.name}`,
      );
    }
  }
  for (const [name, variable] of variables) {
    if (attributeOf(variable.body, 'default') === undefined && !given.has(name)) {
      report(
        'module-call',
        file,
        block.line,
        `module ${block.labels[0]}: the required variable ${name} is not set`,
      );
    }
  }
  return outputs;
}

// ----------------------------------------------------------------------------- version pins

type Version = [number, number, number];

function parseVersion(text: string): Version | undefined {
  const match = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(text.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

const compare = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
const show = (v: Version): string => v.join('.');

/** The lowest version a constraint admits, and the bound above which it admits none. */
export function versionRange(constraint: string): { lowest?: Version; below?: Version; error?: string } {
  let lowest: Version | undefined;
  let below: Version | undefined;
  const raise = (v: Version) => {
    if (lowest === undefined || compare(v, lowest) > 0) lowest = v;
  };
  const cap = (v: Version) => {
    if (below === undefined || compare(v, below) < 0) below = v;
  };
  for (const term of constraint.split(',')) {
    const match = /^\s*(>=|<=|~>|!=|>|<|=)?\s*([\d.]+)\s*$/.exec(term);
    const version = match ? parseVersion(match[2] as string) : undefined;
    if (!match || !version)
      return { error: `cannot read the version constraint ${JSON.stringify(constraint)}` };
    const [major, minor, patch] = version;
    const parts = (match[2] as string).split('.').length;
    switch (match[1] ?? '=') {
      case '>=':
        raise(version);
        break;
      case '>':
        raise([major, minor, patch + 1]);
        break;
      case '<':
        cap(version);
        break;
      case '<=':
        cap([major, minor, patch + 1]);
        break;
      case '=':
        raise(version);
        cap([major, minor, patch + 1]);
        break;
      case '~>':
        raise(version);
        cap(parts >= 3 ? [major, minor + 1, 0] : [major + 1, 0, 0]);
        break;
      default:
        break; // != excludes one version: the range stands
    }
  }
  return { ...(lowest ? { lowest } : {}), ...(below ? { below } : {}) };
}

/**
 * The google (or another) provider's version pin in each module given, against the oldest and
 * newest schemas checked: the pin's floor must be the oldest, and no major version beyond the
 * newest's may be admitted.
 */
export function checkVersionPins(
  modules: { dir: string; files: ModuleFiles }[],
  provider: string,
  oldest: string,
  newest: string,
): Problem[] {
  const problems: Problem[] = [];
  const floor = parseVersion(oldest) as Version;
  const top = parseVersion(newest) as Version;
  for (const { dir, files } of modules) {
    let found = false;
    for (const { file, block } of parse(dir, files).blocks.filter((b) => b.block.type === 'terraform')) {
      for (const required of blocksOfType(block.body, 'required_providers')) {
        const entry = attributeOf(required.body, provider);
        if (entry === undefined) continue;
        found = true;
        const report = (message: string) =>
          problems.push({ kind: 'version', file: join(dir, file), line: entry.line, message });
        const constraint = /\bversion\s*=\s*"([^"]*)"/.exec(entry.expression)?.[1];
        if (constraint === undefined) {
          report(`${provider} has no version constraint: any version may be installed`);
          continue;
        }
        const range = versionRange(constraint);
        if (range.error) {
          report(range.error);
          continue;
        }
        if (range.lowest === undefined) {
          report(
            `${provider} version "${constraint}" has no floor: it admits versions older than ${oldest}, the oldest the module is checked against`,
          );
        } else if (compare(range.lowest, floor) < 0) {
          report(
            `${provider} version "${constraint}" admits ${show(range.lowest)}, older than ${oldest}, the oldest version the module is checked against (raise the floor to ">= ${oldest}")`,
          );
        } else if (compare(range.lowest, floor) > 0) {
          report(
            `${provider} version "${constraint}" starts at ${show(range.lowest)}, but the module is checked against ${oldest}: check it against the floor itself`,
          );
        }
        const nextMajor: Version = [top[0] + 1, 0, 0];
        if (range.below === undefined || compare(range.below, nextMajor) > 0) {
          report(
            `${provider} version "${constraint}" admits ${top[0] + 1}.x and later, newer than ${newest}, the newest version the module is checked against (cap it with "< ${top[0] + 1}.0.0")`,
          );
        } else if (compare(range.below, top) <= 0) {
          report(
            `${provider} version "${constraint}" does not admit ${newest}, the newest version the module is checked against`,
          );
        }
      }
    }
    if (!found)
      problems.push({
        kind: 'version',
        file: dir,
        line: 0,
        message: `no required_providers entry pins ${provider}`,
      });
  }
  return problems;
}
