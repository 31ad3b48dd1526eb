/**
 * A set of guard keys as short text: TnNums sorted and written as base-36 gaps, a run of consecutive
 * ones as `first+count`, so a batch of 100 purchases takes a few hundred bytes, or a dozen, instead of a
 * kilobyte. How the applied log's pages hold their ids: write units are paid per kilobyte.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"

const digits = /^-?\d+$/
const SEQ = "seq:"

/** TnNums, stream sequence numbers (`seq:` keys) and anything else, kept apart. */
const split = (ids: Iterable<string>) => {
  const tn: Array<bigint> = []
  const seq: Array<bigint> = []
  const odd: Array<string> = []
  for (const id of ids) {
    const rest = id.startsWith(SEQ) ? id.slice(SEQ.length) : undefined
    // Only canonical text round-trips through a number: "007" stays an odd id.
    if (digits.test(id) && BigInt(id).toString() === id) tn.push(BigInt(id))
    else if (rest !== undefined && /^\d+$/.test(rest) && BigInt(rest).toString() === rest) seq.push(BigInt(rest))
    else odd.push(id)
  }
  return { tn, seq, odd }
}

const sorted = (values: ReadonlyArray<bigint>) => [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

/** `first[+more]` then `gap[+more]`…: gaps from the end of the previous run, in base 36. */
const encodeNumbers = (values: ReadonlyArray<bigint>): string => {
  const tokens: Array<string> = []
  let previous: bigint | undefined
  let i = 0
  const all = sorted(values)
  while (i < all.length) {
    const start = all[i] ?? 0n
    let end = start
    while (all[i + 1] === end + 1n) {
      end++
      i++
    }
    const head = previous === undefined ? start.toString(36) : (start - previous).toString(36)
    tokens.push(end === start ? head : `${head}+${(end - start).toString(36)}`)
    previous = end
    i++
  }
  return tokens.join(",")
}

const BASE36 = /^-?[0-9a-z]+$/

const parse36 = (text: string): bigint | undefined => {
  if (!BASE36.test(text)) return undefined
  const negative = text.startsWith("-")
  let value = 0n
  for (const ch of negative ? text.slice(1) : text) value = value * 36n + BigInt(Number.parseInt(ch, 36))
  return negative ? -value : value
}

const decodeNumbers = (text: string): Result.Result<Array<bigint>, string> => {
  const values: Array<bigint> = []
  if (text === "") return Result.succeed(values)
  let previous: bigint | undefined
  for (const token of text.split(",")) {
    const [head = "", more, extra] = token.split("+")
    const first = parse36(head)
    const count = more === undefined ? 0n : parse36(more)
    if (first === undefined || count === undefined || count < 0n || extra !== undefined) return Result.fail(`"${token}" is no run of ids`)
    if (previous !== undefined && first <= 0n) return Result.fail(`"${token}" does not follow the run before it`)
    if (count > 1_000_000n) return Result.fail(`"${token}" is a run too long to hold`)
    const start = previous === undefined ? first : previous + first
    for (let k = 0n; k <= count; k++) values.push(start + k)
    previous = start + count
  }
  return Result.succeed(values)
}

/**
 * The text of a set of ids: `tnNums[|seqs[|others]]`, the others URI-encoded (only a hand-edited log
 * holds any). Order and repeats in `ids` do not matter.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (ids: Iterable<string>): string => {
  const { tn, seq, odd } = split(ids)
  const sections = [encodeNumbers(tn), encodeNumbers(seq), [...new Set(odd)].sort().map(encodeURIComponent).join(",")]
  while (sections.length > 1 && sections.at(-1) === "") sections.pop()
  return sections.join("|")
}

/**
 * The ids in a text made by `encode`, or what is wrong with it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (text: string): Result.Result<ReadonlyArray<string>, string> => {
  const [tn = "", seq = "", odd = "", extra] = text.split("|")
  if (extra !== undefined) return Result.fail("has more than three sections")
  return Result.all([decodeNumbers(tn), decodeNumbers(seq)]).pipe(
    Result.flatMap(([tns, seqs]) => {
      const others: Array<string> = []
      for (const part of odd === "" ? [] : odd.split(",")) {
        const id = Result.try(() => decodeURIComponent(part))
        if (Result.isFailure(id)) return Result.fail(`"${part}" is not URI-encoded`)
        others.push(id.success)
      }
      return Result.succeed([...tns.map(String), ...seqs.map((s) => `${SEQ}${s}`), ...others])
    })
  )
}

