/**
 * How each command is called and what it does, and the error for bad usage. Apart from the commands
 * themselves, so that `main` can print help and load only the command it runs: `detect` over a large
 * file must not pay for the modules of `status`, `reconcile` or `demo` at start-up.
 */
export class UsageError extends Error {}

export const COMMAND_USAGE = {
  detect: {
    usage: 'wi-sentinel detect [--snapshot FILE] [FILE|-]',
    does: 'Read audit-log deliveries (NDJSON), print one Finding per line.',
  },
  replay: {
    usage: 'wi-sentinel replay --snapshot FILE [FILE|-]',
    does: 'The whole pipeline in one process: incidents, Slack and PagerDuty (printed when not configured).',
  },
  demo: {
    usage: 'wi-sentinel demo [--fast] [--verbose]',
    does: 'A simulated organization and its incidents, end to end, shown here (no Google account needed).',
  },
  diagnose: {
    usage: 'wi-sentinel diagnose NS/KSA --cluster C --location L --project P [--json] [--snapshot FILE]',
    does: `Every link of one KSA's Workload Identity chain, with the repair of each broken one
      (exit 0 healthy, 1 broken, 2 bad usage, 3 some link could not be checked).`,
  },
  reconcile: {
    usage:
      'wi-sentinel reconcile [--scope S … | --project P … | --snapshot FILE] [--direct] [--dry-run] [--verbose]',
    does: `The sweep: every link of every Workload Identity KSA judged from the whole inventory (read
      through Cloud Asset Inventory over organizations/N, folders/N or projects/P; --direct reads each
      object); drift opens incidents, healthy links resolve them (--dry-run prints one Finding per
      line, changes nothing).`,
  },
  'sink-filter': {
    usage: 'wi-sentinel sink-filter [--sink NAME]',
    does: 'The Logging filter of a Log Router sink (default audit), as infra/filters/ holds it.',
  },
  snapshot: {
    usage: 'wi-sentinel snapshot [--project P …] [--json] [--concurrency N]',
    does: `Live state (GKE, IAM, every cluster's Kubernetes API) as a Snapshot on stdout; progress and
      problems on stderr (exit 1 when problems left it partial).`,
  },
  status: {
    usage:
      'wi-sentinel status [--snapshot FILE | --project P …] [--json] [CLUSTER | NS/KSA [--cluster C] | incidents | help]',
    does: `What /wi-status answers, here: open incidents and each cluster, one cluster, one KSA's chain
      (exit 0 healthy, 1 broken, 2 bad usage, 3 something could not be read).`,
  },
} as const;

export type CommandName = keyof typeof COMMAND_USAGE;

export const USAGE = `Usage: wi-sentinel COMMAND

Commands:
${Object.values(COMMAND_USAGE)
  .map(({ usage, does }) => `  ${usage}\n      ${does}\n`)
  .join('')}`;
