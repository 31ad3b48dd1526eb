/**
 * How the commands write numbers for people: thousands separated, units spelled out.
 */

const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 })

/** `12,345`. */
export const number = (n: number): string => whole.format(n)

/** `1 customer`, `2,000 customers`. */
export const count = (n: number, one: string, many: string): string => `${whole.format(n)} ${n === 1 ? one : many}`

/** `3.8 s`. */
export const seconds = (millis: number): string => `${oneDecimal.format(millis / 1000)} s`

/** `$1,050`. */
export const dollars = (n: number): string => `$${whole.format(n)}`
