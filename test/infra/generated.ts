import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SINK_FILTERS } from '../../cli/sink-filter.ts';
import { METADATA_SERVER_ALERT_POLICY } from '../../shared/events/monitoring.ts';
import { REPO_ROOT } from '../support/paths.ts';

/**
 * The files infra/ reads that the code generates, by path from the repository root, so Terraform
 * deploys exactly what the code recognises: each sink's filter, and the metadata-server alert policy
 * (its PromQL condition and the user label the notification decoder looks for). generated.test.ts
 * fails when one is stale; `npx node test/infra/generated.ts` rewrites them all.
 */
export const GENERATED: Record<string, () => string> = {
  ...Object.fromEntries(
    Object.entries(SINK_FILTERS).map(([name, filter]) => [
      `infra/filters/${name}.filter`,
      () => `${filter()}\n`,
    ]),
  ),
  'infra/generated/metadata-server-alert.json': () =>
    `${JSON.stringify(METADATA_SERVER_ALERT_POLICY, null, 2)}\n`,
};

export const REGENERATE = 'npx node test/infra/generated.ts';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, generate] of Object.entries(GENERATED)) {
    writeFileSync(join(REPO_ROOT, path), generate());
    process.stdout.write(`wrote ${path}\n`);
  }
}
