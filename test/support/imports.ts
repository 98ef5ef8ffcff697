import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './paths.ts';

/** Client libraries no cold start of an irrelevant event, and no light command, may load. */
export const HEAVY_MODULE =
  /node_modules\/(@google-cloud\/(?!functions-framework)|googleapis|google-auth-library|google-gax|@grpc|@slack|@kubernetes)/;

/**
 * Runs `body` (an ES module, top-level await allowed) in a fresh Node process with a resolve hook,
 * and returns every URL it resolved, and what it printed last (a JSON value, or null).
 */
export function traceImports(
  body: string,
  env: NodeJS.ProcessEnv = process.env,
): { urls: string[]; result: unknown } {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
    const result = await (async () => { ${body} })();
    console.log(JSON.stringify({ seen, result: result ?? null }));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env,
  });
  if (run.status !== 0) throw new Error(`the traced script failed: ${run.stderr}`);
  const { seen, result } = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
    seen: string[];
    result: unknown;
  };
  return { urls: seen, result };
}
