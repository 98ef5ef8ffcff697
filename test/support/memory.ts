import { readFileSync, writeFileSync } from 'node:fs';

/**
 * A process's memory as Linux reports it in /proc/PID/status, MB: VmRSS (now) or VmHWM (the peak
 * since start, or since resetPeak). NaN once the process is gone.
 */
export function memoryMB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Starts VmHWM over from the current RSS (writing 5 to clear_refs, Linux ≥ 4.0); false when refused. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
