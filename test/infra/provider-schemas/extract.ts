/**
 * Rebuilds a Terraform provider's schema, trimmed to what infra/ uses, from the prebuilt cdktf
 * bindings on npm (`@cdktf/provider-google`, `@cdktf/provider-archive`), because no Terraform binary
 * or provider plugin can be downloaded here. Those packages are too large to be dependencies (about
 * 230 MB for google 6.9, 310 MB for 6.50): install the one you need into a scratch folder outside the
 * repository, then run, from the repository root:
 *
 *   mkdir -p /tmp/google-6.50 && npm install --prefix /tmp/google-6.50 --ignore-scripts --legacy-peer-deps @cdktf/provider-google@16.12.1
 *   npx node test/infra/provider-schemas/extract.ts /tmp/google-6.50/node_modules/@cdktf/provider-google > test/infra/provider-schemas/google-6.50.0.json
 *
 * What each binding holds, per resource and data source (`lib/<name>/index.js` and `index.d.ts`):
 * - `synthesizeHclAttributes()` and one `…ToHclTerraform(struct)` function per nested block list
 *   every argument the provider accepts with `isBlock` (block or argument) and `type` (`simple`,
 *   `list`, `set`, `map`, or `struct`, a single nested block);
 * - the getters (`this.getStringAttribute('uri')`, `new …List(this, "conditions", false)`) name
 *   every attribute a reference may read, those the provider computes included;
 * - the config interfaces in `index.d.ts` say which arguments are required (no `?`) and document the
 *   enums (`Possible values: ["A", "B"]`);
 * - a block the parent builds as an `…OutputReference` rather than a `…List` takes at most one item.
 *
 * Kept in full: the types infra/ and its examples declare (`--keep DIR`, default infra) and the
 * provider block; every other type is kept by name only, so an unknown type is still told from one
 * left out of the trim (which asks for this script to be run again).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AttributeSchema, BlockSchema, ProviderSchema } from '../schema-check.ts';

interface Lib {
  js: string;
  dts: string;
  /** Top-level functions and classes of index.js by name. */
  functions: Map<string, string>;
  classes: Map<string, string>;
  interfaces: Map<string, string>;
}

function readLib(dir: string): Lib {
  const js = readFileSync(join(dir, 'index.js'), 'utf8');
  const dts = readFileSync(join(dir, 'index.d.ts'), 'utf8');
  const functions = new Map<string, string>();
  const classes = new Map<string, string>();
  for (const chunk of js.split(/\n(?=(?:function|class) \w)/)) {
    const fn = /^function (\w+)/.exec(chunk);
    if (fn) functions.set(fn[1] as string, chunk);
    const cls = /^class (\w+)/.exec(chunk);
    if (cls) classes.set(cls[1] as string, chunk);
  }
  const interfaces = new Map<string, string>();
  for (const match of dts.matchAll(/^export interface (\w+)[^{]*\{\n([\s\S]*?)^\}/gm)) {
    interfaces.set(match[1] as string, match[2] as string);
  }
  return { js, dts, functions, classes, interfaces };
}

interface Setting {
  name: string;
  isBlock: boolean;
  type: string;
  storage: string;
  /** The nested struct's `…ToHclTerraform` function, for blocks and object lists. */
  nested?: string;
}

/** The entries of an `attrs = { … }` object: every argument or block a body accepts. */
function settingsOf(text: string): Setting[] {
  const settings: Setting[] = [];
  const entry =
    /^\s+(\w+): \{\n\s+value: (.+),\n\s+isBlock: (true|false),\n\s+type: "(\w+)",\n\s+storageClassType: "(\w+)",/gm;
  for (const match of text.matchAll(entry)) {
    const nested = /(?<![.\w])([a-z]\w*ToHclTerraform)\b/.exec(match[2] as string)?.[1];
    settings.push({
      name: match[1] as string,
      isBlock: match[3] === 'true',
      type: match[4] as string,
      storage: match[5] as string,
      ...(nested ? { nested } : {}),
    });
  }
  return settings;
}

/** snake_case argument → camelCase property, from a `…ToTerraform` function or synthesizeAttributes(). */
function propertyNames(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const match of text.matchAll(/^\s+(\w+): .*\((?:struct!?\.|this\._)(\w+)(?:\.internalValue)?\)/gm)) {
    names.set(match[1] as string, match[2] as string);
  }
  return names;
}

interface Property {
  optional: boolean;
  values?: string[];
}

/** The properties of a config interface in index.d.ts, by camelCase name. */
function propertiesOf(lib: Lib, name: string): Map<string, Property> {
  const body = lib.interfaces.get(name);
  const properties = new Map<string, Property>();
  if (body === undefined) return properties;
  for (const match of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*readonly (\w+)(\?)?:/g)) {
    const doc = match[1] as string;
    const possible = /Possible values: \[([^\]]*)\]/.exec(doc)?.[1];
    const values =
      possible === undefined ? undefined : [...possible.matchAll(/"([^"]*)"/g)].map((m) => m[1] as string);
    properties.set(match[2] as string, { optional: match[3] === '?', ...(values ? { values } : {}) });
  }
  return properties;
}

/** Attributes a class reads (getters), and the nested objects it builds, by Terraform name. */
function readsOf(classText: string): {
  attributes: Map<string, AttributeSchema['type']>;
  objects: Map<string, { className: string; kind: 'list' | 'set' | 'single' | 'map' }>;
} {
  const attributes = new Map<string, AttributeSchema['type']>();
  const typeOf: Record<string, AttributeSchema['type']> = {
    String: 'string',
    Number: 'number',
    Boolean: 'bool',
    List: 'list',
    NumberList: 'list',
    BooleanList: 'list',
    StringMap: 'map',
    NumberMap: 'map',
    BooleanMap: 'map',
    Any: 'any',
    AnyMap: 'map',
  };
  for (const match of classText.matchAll(/this\.get(\w*)Attribute\('(\w+)'\)/g)) {
    attributes.set(match[2] as string, typeOf[match[1] as string] ?? 'any');
  }
  for (const match of classText.matchAll(/new cdktf\.(\w+)\(this, "(\w+)"\)/g)) {
    attributes.set(match[2] as string, /Map/.test(match[1] as string) ? 'map' : 'list');
  }
  const objects = new Map<string, { className: string; kind: 'list' | 'set' | 'single' | 'map' }>();
  for (const match of classText.matchAll(
    /new (\w+)(List|OutputReference|Map)\(this, "(\w+)"(?:, (true|false))?\)/g,
  )) {
    const kind =
      match[2] === 'OutputReference'
        ? 'single'
        : match[2] === 'Map'
          ? 'map'
          : match[4] === 'true'
            ? 'set'
            : 'list';
    objects.set(match[3] as string, { className: `${match[1]}OutputReference`, kind });
  }
  return { attributes, objects };
}

const PRIMITIVE: Record<string, AttributeSchema['type']> = {
  string: 'string',
  number: 'number',
  boolean: 'bool',
};

/**
 * One body's schema: what `settings` accept (with `properties` for required and enums) and what
 * the class `reader` reads beyond them (computed attributes). `reader` is the resource class or the
 * struct's …OutputReference.
 */
function blockOf(
  lib: Lib,
  settings: Setting[],
  names: Map<string, string>,
  properties: Map<string, Property>,
  reader: string | undefined,
): BlockSchema {
  const block: BlockSchema = { attributes: {}, blocks: {} };
  const reads = reader
    ? readsOf(lib.classes.get(reader) ?? '')
    : { attributes: new Map(), objects: new Map() };
  for (const setting of settings) {
    const property = properties.get(names.get(setting.name) ?? '');
    const required = property !== undefined && !property.optional;
    if (setting.isBlock) {
      const struct = setting.nested ? structOf(lib, setting.nested) : { attributes: {}, blocks: {} };
      const built = reads.objects.get(setting.name);
      const nesting = setting.type === 'struct' ? 'single' : setting.type === 'set' ? 'set' : 'list';
      block.blocks[setting.name] = {
        nesting,
        ...(required ? { minItems: 1 } : {}),
        // A list block the parent builds as an OutputReference holds at most one item.
        ...(nesting !== 'single' && built?.kind === 'single' ? { maxItems: 1 } : {}),
        block: struct,
      };
      continue;
    }
    const attribute: AttributeSchema = {
      type:
        setting.type === 'simple'
          ? (PRIMITIVE[setting.storage] ?? 'any')
          : setting.type === 'struct'
            ? 'object'
            : (setting.type as AttributeSchema['type']),
      ...(required ? { required: true } : { optional: true }),
      ...(property?.values ? { values: property.values } : {}),
    };
    if (setting.nested && setting.type !== 'simple')
      attribute.object = structOf(lib, setting.nested).attributes;
    block.attributes[setting.name] = attribute;
  }
  // What a reference may read besides the arguments: attributes the provider computes.
  for (const [name, type] of reads.attributes) {
    if (!(name in block.attributes) && !(name in block.blocks))
      block.attributes[name] = { type, computed: true };
  }
  for (const [name, object] of reads.objects) {
    if (name in block.attributes || name in block.blocks) continue;
    const nested = computedObject(lib, object.className);
    block.attributes[name] = {
      type: object.kind === 'single' ? 'object' : object.kind,
      computed: true,
      object: nested,
    };
  }
  return block;
}

/** A computed nested object: every attribute its OutputReference reads. */
function computedObject(lib: Lib, className: string, depth = 0): Record<string, AttributeSchema> {
  const reads = readsOf(lib.classes.get(className) ?? '');
  const attributes: Record<string, AttributeSchema> = {};
  for (const [name, type] of reads.attributes) attributes[name] = { type, computed: true };
  if (depth < 6) {
    for (const [name, object] of reads.objects) {
      attributes[name] = {
        type: object.kind === 'single' ? 'object' : object.kind,
        computed: true,
        object: computedObject(lib, object.className, depth + 1),
      };
    }
  }
  return attributes;
}

/** A nested struct's schema from its `…ToHclTerraform` function name. */
function structOf(lib: Lib, hclFunction: string): BlockSchema {
  const base = hclFunction.replace(/ToHclTerraform$/, '');
  const interfaceName = base.charAt(0).toUpperCase() + base.slice(1);
  const settings = settingsOf(lib.functions.get(hclFunction) ?? '');
  const names = propertyNames(lib.functions.get(`${base}ToTerraform`) ?? '');
  return blockOf(lib, settings, names, propertiesOf(lib, interfaceName), `${interfaceName}OutputReference`);
}

interface TopLevel {
  kind: 'resource' | 'data' | 'provider';
  type: string;
  className: string;
}

function topLevelOf(lib: Lib): TopLevel | undefined {
  const match = /^(\w+)\.tfResourceType = "([\w-]+)";$/m.exec(lib.js);
  if (!match) return undefined;
  const className = match[1] as string;
  const base = /^class \w+ extends cdktf\.(\w+)/.exec(lib.classes.get(className) ?? '')?.[1];
  const kind =
    base === 'TerraformDataSource' ? 'data' : base === 'TerraformProvider' ? 'provider' : 'resource';
  return { kind, type: match[2] as string, className };
}

function schemaOf(lib: Lib, top: TopLevel): BlockSchema {
  const text = lib.classes.get(top.className) ?? '';
  const hcl = /synthesizeHclAttributes\(\) \{([\s\S]*?)\n {4}\}/.exec(text)?.[1] ?? '';
  const synth = /synthesizeAttributes\(\) \{([\s\S]*?)\n {4}\}/.exec(text)?.[1] ?? '';
  return blockOf(
    lib,
    settingsOf(hcl),
    propertyNames(synth),
    propertiesOf(lib, `${top.className}Config`),
    top.className,
  );
}

/** The type names a module declares, in every .tf file under `dir`. */
function typesUsedUnder(dir: string): Set<string> {
  const used = new Set<string>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path)) {
      const child = join(path, entry);
      if (statSync(child).isDirectory()) walk(child);
      else if (entry.endsWith('.tf')) {
        const text = readFileSync(child, 'utf8');
        for (const match of text.matchAll(/^\s*(resource|data)\s+"([\w-]+)"/gm))
          used.add(`${match[1]}.${match[2]}`);
      }
    }
  };
  walk(dir);
  return used;
}

export function extractSchema(packageDir: string, keep: Set<string>): ProviderSchema {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    cdktf: { provider: { name: string; version: string } };
  };
  const schema: ProviderSchema = {
    source: `${pkg.name}@${pkg.version}`,
    provider: pkg.cdktf.provider.name.replace(/^registry\.terraform\.io\//, ''),
    version: pkg.cdktf.provider.version,
    resourceTypes: [],
    dataSourceTypes: [],
    resources: {},
    dataSources: {},
  };
  const libDir = join(packageDir, 'lib');
  for (const entry of readdirSync(libDir).sort()) {
    const dir = join(libDir, entry);
    if (!statSync(dir).isDirectory()) continue;
    let lib: Lib;
    try {
      lib = readLib(dir);
    } catch {
      continue;
    }
    const top = topLevelOf(lib);
    if (top === undefined) continue;
    if (top.kind === 'provider') {
      schema.providerConfig = schemaOf(lib, top);
    } else if (top.kind === 'data') {
      schema.dataSourceTypes.push(top.type);
      if (keep.has(`data.${top.type}`)) schema.dataSources[top.type] = schemaOf(lib, top);
    } else {
      schema.resourceTypes.push(top.type);
      if (keep.has(`resource.${top.type}`)) schema.resources[top.type] = schemaOf(lib, top);
    }
  }
  schema.resourceTypes.sort();
  schema.dataSourceTypes.sort();
  return schema;
}

if (process.argv[1] === import.meta.filename) {
  const { values, positionals } = parseArgs({
    options: { keep: { type: 'string', default: 'infra' } },
    allowPositionals: true,
  });
  const [packageDir] = positionals;
  if (packageDir === undefined) {
    process.stderr.write(
      'usage: npx node test/infra/provider-schemas/extract.ts PACKAGE_DIR [--keep infra] > FILE.json\n',
    );
    process.exit(2);
  }
  const schema = extractSchema(packageDir, typesUsedUnder(values.keep));
  process.stdout.write(layout(schema));
}

/** One line per kept type, so a regenerated schema's diff shows which types changed. */
function layout(schema: ProviderSchema): string {
  const lines = Object.entries(schema).map(([key, value]) => {
    if (key !== 'resources' && key !== 'dataSources')
      return `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`;
    const types = Object.entries(value as Record<string, BlockSchema>).map(
      ([type, block]) => `    ${JSON.stringify(type)}: ${JSON.stringify(block)}`,
    );
    return types.length === 0
      ? `  ${JSON.stringify(key)}: {}`
      : `  ${JSON.stringify(key)}: {\n${types.join(',\n')}\n  }`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}
