/**
 * How the commands write numbers and durations for people: thousands separated, units spelled out.
 * The one place each number format is built, shared by the tools' screens and the scripts.
 */

const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 })

/** `12,345`: a whole number, as every count on a screen is written. */
export const number = (n: number): string => whole.format(n)

/** `3.8`, `12`: one decimal at most, for rates and seconds where a whole number would read as zero. */
export const decimal = (n: number): string => oneDecimal.format(n)

/** `1 customer`, `2,000 customers`: a count with its unit, singular for one (`many` defaults to `one` + `s`). */
export const count = (n: number, one: string, many = `${one}s`): string => `${number(n)} ${n === 1 ? one : many}`

/** `3.8 s`: how long a command took. */
export const seconds = (millis: number): string => `${decimal(millis / 1000)} s`

/** `$1,050`. */
export const dollars = (n: number): string => `$${number(n)}`

/** `850 ms`, `12 s`, `4 min`, `2 h 05 min`: an age or a wait, in a sentence. */
export const duration = (millis: number): string => {
  const ms = Math.max(0, Math.round(millis))
  if (ms < 1000) return `${ms} ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`
}

const pad = (n: number) => String(n).padStart(2, "0")

/** `4s`, `2m05s`, `1h02m`: as precise as a glance needs, and short enough for a progress line. */
export const compactDuration = (millis: number): string => {
  const seconds = Math.max(0, Math.round(millis / 1000))
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`
  return `${Math.floor(seconds / 3600)}h${pad(Math.floor((seconds % 3600) / 60))}m`
}
