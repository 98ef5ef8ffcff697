/**
 * Times as entries carry them. Cloud Logging writes RFC 3339 (`2026-11-20T09:00:00.123456789Z`),
 * which every consumer (verification's age, Slack's date formatting, PagerDuty's timestamp) reads;
 * anything else in a time field is left out rather than passed on, and the reason kept.
 * https://www.rfc-editor.org/rfc/rfc3339#section-5.6
 */
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)([Zz]|[+-]\d{2}:\d{2})$/;

/** `value` as an RFC 3339 time (`T` and `Z` upper case), or undefined when it is not one. */
export function rfc3339(value: string | undefined): string | undefined {
  const match = value === undefined ? null : RFC3339.exec(value);
  if (match === null) return undefined;
  const [, date, time, zone = ''] = match;
  const normal = `${date}T${time}${zone.toUpperCase()}`;
  // The form can hold what is no time at all (month 13, 25 o'clock).
  return Number.isNaN(Date.parse(normal)) ? undefined : normal;
}

/** Why a time field was left out, quoting (a bounded part of) what it held. */
export function notATime(field: string, value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return `${field} ${JSON.stringify(shown)} is not an RFC 3339 time: left out`;
}
