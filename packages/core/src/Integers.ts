/**
 * Integers kept as decimal text (TnNums, sequence numbers, page keys may pass 2^53): put in order and
 * told canonical without a BigInt each. A backfill orders a thousand ids per customer; parsing every
 * one was most of its work.
 *
 * @since 0.1.0
 */

const canonicalPattern = /^(?:0|-?[1-9]\d*)$/

/**
 * Whether `text` is an integer written as `BigInt` writes it: no sign but a leading `-`, no leading
 * zeros, no `-0`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isCanonical = (text: string): boolean => canonicalPattern.test(text)

/**
 * `text` as `BigInt` writes it; `text` must be an integer (`/^-?\d+$/`).
 *
 * @since 0.1.0
 * @category encoding
 */
export const canonical = (text: string): string => (isCanonical(text) ? text : BigInt(text).toString())

/**
 * Canonical integer texts (see {@link isCanonical}) by value, -1, 0 or 1: by sign, length and digits.
 *
 * @since 0.1.0
 * @category ordering
 */
export const compareCanonical = (a: string, b: string): -1 | 0 | 1 => {
  const negative = a.startsWith("-")
  if (negative !== b.startsWith("-")) return negative ? -1 : 1
  const magnitude = a.length !== b.length ? (a.length < b.length ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0
  return negative ? (-magnitude as -1 | 0 | 1) : magnitude
}

/**
 * Any integer texts (`/^-?\d+$/`) by value, -1, 0 or 1: canonical ones without parsing, others
 * through `BigInt`.
 *
 * @since 0.1.0
 * @category ordering
 */
export const compare = (a: string, b: string): -1 | 0 | 1 => {
  if (isCanonical(a) && isCanonical(b)) return compareCanonical(a, b)
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * Whether every text is a canonical integer small enough for exact arithmetic as a `number` (at most 15
 * digits): then ids can be counted in numbers, not BigInts.
 *
 * @since 0.1.0
 * @category guards
 */
export const allSafe = (texts: ReadonlyArray<string>): boolean => {
  for (const text of texts) if (text.length > 15 || !isCanonical(text)) return false
  return true
}
