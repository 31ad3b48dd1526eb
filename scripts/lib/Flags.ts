/**
 * Checks of flag values the commands share: each returns the value or the sentence that says what is
 * wrong with it, so the checks are tested as plain functions and `orExit` turns a problem into the
 * commands' one behaviour for bad arguments (the problem, the usage, exit code 2).
 */

/** A checked flag value, or what is wrong with it. */
export type Checked<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly problem: string }

const ok = <A>(value: A): Checked<A> => ({ ok: true, value })
const problem = (text: string): Checked<never> => ({ ok: false, problem: text })

/** A whole number from `min` to `max`; absent → `fallback`. */
export const wholeNumber = <F>(
  flag: string,
  text: string | undefined,
  range: { readonly min: number; readonly max: number },
  fallback: F
): Checked<number | F> => {
  if (text === undefined) return ok(fallback)
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN
  return n >= range.min && n <= range.max
    ? ok(n)
    : problem(`--${flag} must be a whole number from ${range.min} to ${range.max}, not ${JSON.stringify(text)}`)
}

/** A number of seconds from 0 to `max` (decimals allowed), in milliseconds; absent → `fallback`. */
export const seconds = <F>(flag: string, text: string | undefined, max: number, fallback: F): Checked<number | F> => {
  if (text === undefined) return ok(fallback)
  return /^\d+(\.\d+)?$/.test(text) && Number(text) <= max
    ? ok(Math.round(Number(text) * 1000))
    : problem(`--${flag} must be a number of seconds from 0 to ${max}, not ${JSON.stringify(text)}`)
}

/** `--segments`: a parallel Scan's segment count, 1 to 1,000,000 (what DynamoDB's TotalSegments takes); absent → `fallback`. */
export const segments = <F>(text: string | undefined, fallback: F): Checked<number | F> =>
  wholeNumber("segments", text, { min: 1, max: 1_000_000 }, fallback)

// A calendar date (midnight UTC), or a date and time with a zone: a zone-less time would be read in
// whatever zone this machine is in, and Date.parse alone takes "March 7" and 2026-02-30 (as 2 March).
const isoDate =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d))?$/

/** An ISO-8601 date or a timestamp with a zone; absent → `undefined`. */
export const instant = (flag: string, text: string | undefined): Checked<Date | undefined> => {
  if (text === undefined) return ok(undefined)
  const m = isoDate.exec(text)
  const day = m === null ? undefined : new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  const ms = Date.parse(text)
  return m === null || day === undefined || day.getUTCDate() !== Number(m[3]) || Number.isNaN(ms)
    ? problem(`--${flag} must be an ISO-8601 date (2026-11-01) or a timestamp with a zone (2026-11-01T09:00:00Z), not ${JSON.stringify(text)}`)
    : ok(new Date(ms))
}

/** Prints the problem and the usage and exits 2, as `parse` does for any bad argument. */
export const badArgument = (usage: string, message: string): never => {
  console.error(`error: ${message}\n\n${usage}`)
  return process.exit(2)
}

/** The checked value, or exit 2 with the problem and the usage. */
export const orExit = <A>(usage: string, checked: Checked<A>): A => checked.ok ? checked.value : badArgument(usage, checked.problem)
