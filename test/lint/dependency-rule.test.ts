import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../support/paths.ts';

// The dependency rule (README "How it works", .dependency-cruiser.cjs) holds only if `npm run lint`
// fails on a violation. A copy of the tree gets one planted violation of each rule, and lint must
// fail naming the rule for exactly that import.

/** What `npm run lint` reads: the sources it checks and its configuration. */
const COPIED = [
  'shared',
  'functions',
  'cli',
  'package.json',
  'biome.json',
  '.gitignore',
  '.dependency-cruiser.cjs',
];

interface Plant {
  rule: string;
  /** The planted files and their source. */
  files: Record<string, string>;
  /** The import lint must name: FROM → TO (a package by its folder, ending in `/`). */
  names: [from: string, to: string];
  /** A circle may be named from either end. */
  orNames?: [from: string, to: string];
}

const PLANTS: Plant[] = [
  {
    rule: 'no-circular',
    files: {
      'shared/domain/planted-cycle-a.ts':
        "import { b } from './planted-cycle-b.ts';\n\nexport const a = (): number => b() + 1;\n",
      'shared/domain/planted-cycle-b.ts':
        "import { a } from './planted-cycle-a.ts';\n\nexport const b = (): number => a() - 1;\n",
    },
    names: ['shared/domain/planted-cycle-a.ts', 'shared/domain/planted-cycle-b.ts'],
    orNames: ['shared/domain/planted-cycle-b.ts', 'shared/domain/planted-cycle-a.ts'],
  },
  {
    rule: 'pure-core-no-client-library',
    files: {
      'shared/detect/planted-client.ts':
        "import { WebClient } from '@slack/web-api';\n\nexport const client = WebClient;\n",
    },
    names: ['shared/detect/planted-client.ts', '/node_modules/@slack/web-api/'],
  },
  {
    rule: 'pure-core-no-io',
    files: {
      'shared/inventory/planted-io.ts':
        "import { readFileSync } from 'node:fs';\n\nexport const read = readFileSync;\n",
    },
    names: ['shared/inventory/planted-io.ts', 'fs'],
  },
  {
    rule: 'gcp-adapters-only',
    files: {
      'shared/gcp/planted-judgement.ts':
        "import { detect } from '../detect/index.ts';\n\nexport const judge = detect;\n",
    },
    names: ['shared/gcp/planted-judgement.ts', 'shared/detect/index.ts'],
  },
  {
    rule: 'shared-not-entries',
    files: {
      'shared/reconcile/planted-entry.ts':
        "import { run } from '../../cli/main.ts';\n\nexport const entry = run;\n",
    },
    names: ['shared/reconcile/planted-entry.ts', 'cli/main.ts'],
  },
  {
    rule: 'floor-0',
    files: {
      'shared/domain/planted-up.ts':
        "import { decode } from '../events/decode.ts';\n\nexport const up = decode;\n",
    },
    names: ['shared/domain/planted-up.ts', 'shared/events/decode.ts'],
  },
  {
    rule: 'floor-1',
    files: {
      'shared/events/planted-up.ts':
        "import { detect } from '../detect/index.ts';\n\nexport const up = detect;\n",
    },
    names: ['shared/events/planted-up.ts', 'shared/detect/index.ts'],
  },
  {
    rule: 'floor-2',
    files: {
      'shared/chain/planted-up.ts':
        "import { detect } from '../detect/index.ts';\n\nexport const up = detect;\n",
    },
    names: ['shared/chain/planted-up.ts', 'shared/detect/index.ts'],
  },
  {
    // A renderer (floor 3) is not a sender (floor 4), though both live in notify/.
    rule: 'floor-3',
    files: {
      'shared/notify/planted-render.ts':
        "import { createSlackSender } from './slack.ts';\n\nexport const up = createSlackSender;\n",
    },
    names: ['shared/notify/planted-render.ts', 'shared/notify/slack.ts'],
  },
  {
    // Type-only imports count: the floors are about what a module knows, not only what it runs.
    rule: 'floor-4',
    files: {
      'shared/incidents/planted-up.ts':
        "import type { SymptomOptions } from '../symptoms/group.ts';\n\nexport type Up = SymptomOptions;\n",
    },
    names: ['shared/incidents/planted-up.ts', 'shared/symptoms/group.ts'],
  },
  {
    rule: 'floor-5',
    files: {
      'shared/symptoms/planted-up.ts': "import { run } from '../../cli/main.ts';\n\nexport const up = run;\n",
    },
    names: ['shared/symptoms/planted-up.ts', 'cli/main.ts'],
  },
  {
    // status/ renders the chain's judgement; it reads no store.
    rule: 'floor-3',
    files: {
      'shared/status/planted-up.ts':
        "import type { IncidentStore } from '../incidents/store.ts';\n\nexport type Up = IncidentStore;\n",
    },
    names: ['shared/status/planted-up.ts', 'shared/incidents/store.ts'],
  },
  {
    rule: 'floor-unassigned',
    files: {
      'shared/planted-folder/orphan.ts':
        "import type { Finding } from '../domain/finding.ts';\n\nexport type Orphan = Finding;\n",
    },
    names: ['shared/planted-folder/orphan.ts', 'shared/domain/finding.ts'],
  },
];

function copyTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'wi-dependency-rule-'));
  for (const entry of COPIED) cpSync(join(REPO_ROOT, entry), join(root, entry), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

function lint(cwd: string): { status: number | null; output: string } {
  // Under `npm test`, npm says where it is; otherwise the one on PATH.
  const npm = process.env.npm_execpath;
  const run = spawnSync(
    npm ? process.execPath : 'npm',
    npm ? [npm, 'run', '--silent', 'lint'] : ['run', '--silent', 'lint'],
    { cwd, encoding: 'utf8', timeout: 120_000 },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('npm run lint enforces the dependency rule', () => {
  let root: string;
  before(() => {
    root = copyTree();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('the tree as it is passes', () => {
    const { status, output } = lint(root);
    assert.equal(status, 0, output);
    assert.match(output, /no dependency violations found/);
  });

  test('a planted violation of each rule fails lint, naming the rule and the import', () => {
    for (const [file, source] of PLANTS.flatMap((plant) => Object.entries(plant.files))) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), source);
    }
    const { status, output } = lint(root);
    assert.notEqual(status, 0, 'lint passed with violations planted');
    // `error RULE: FROM → TO` (a circle goes on over the next lines: `→ NEXT → …`).
    const named = [...output.matchAll(/error ([a-z0-9-]+): (\S+) →\s+(\S+)/g)].map((m) => ({
      rule: m[1] ?? '',
      from: m[2] ?? '',
      to: m[3] ?? '',
    }));
    const is = ([from, to]: [string, string], v: (typeof named)[number]) =>
      v.from === from && (v.to === to || (to.endsWith('/') && v.to.includes(to)));
    for (const plant of PLANTS) {
      assert.ok(
        named.some(
          (v) => v.rule === plant.rule && (is(plant.names, v) || (plant.orNames && is(plant.orNames, v))),
        ),
        `lint did not name ${plant.rule} for ${plant.names.join(' → ')}:\n${output}`,
      );
    }
    // Lint blames the planted files only, nothing that was already there.
    const planted = new Set(PLANTS.flatMap((p) => Object.keys(p.files)));
    assert.deepEqual(
      named.filter((v) => !planted.has(v.from)),
      [],
      output,
    );
  });

  test('every rule of the configuration has its planted violation', () => {
    const config = createRequire(import.meta.url)(join(REPO_ROOT, '.dependency-cruiser.cjs')) as {
      forbidden: { name: string }[];
    };
    assert.deepEqual(
      config.forbidden.map((rule) => rule.name).sort(),
      [...new Set(PLANTS.map((p) => p.rule))].sort(),
    );
  });
});
