/**
 * A set of guard keys as short text: TnNums sorted and written as base-36 gaps, a run of consecutive
 * ones as `first+count`, so a batch of 100 purchases takes a few hundred bytes, or a dozen, instead of a
 * kilobyte. How the applied log's pages hold their ids: write units are paid per kilobyte.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Integers from "./Integers.js"

const SEQ = "seq:"

/** TnNums, stream sequence numbers (`seq:` keys) and anything else, kept apart. */
const split = (ids: Iterable<string>) => {
  const tn: Array<string> = []
  const seq: Array<string> = []
  const odd: Array<string> = []
  for (const id of ids) {
    const rest = id.startsWith(SEQ) ? id.slice(SEQ.length) : undefined
    // Only canonical text round-trips through a number: "007" stays an odd id.
    if (Integers.isCanonical(id)) tn.push(id)
    else if (rest !== undefined && Integers.isCanonical(rest) && !rest.startsWith("-")) seq.push(rest)
    else odd.push(id)
  }
  return { tn, seq, odd }
}

/** What `encodeNumbers` needs of a number type: `number` when every id is safe, `bigint` otherwise. */
interface Arithmetic<N> {
  readonly of: (text: string) => N
  readonly plus1: (n: N) => N
  readonly minus: (a: N, b: N) => N
}

const numbers: Arithmetic<number> = { of: Number, plus1: (n) => n + 1, minus: (a, b) => a - b }
const bigints: Arithmetic<bigint> = { of: BigInt, plus1: (n) => n + 1n, minus: (a, b) => a - b }

/** `first[+more]` then `gap[+more]`…: gaps from the end of the previous run, in base 36. */
const encodeSorted = <N extends number | bigint>(texts: ReadonlyArray<string>, math: Arithmetic<N>): string => {
  const all = texts.map(math.of)
  const tokens: Array<string> = []
  let previous: N | undefined
  let i = 0
  while (i < all.length) {
    const start = all[i] as N
    let end = start
    while (all[i + 1] === math.plus1(end)) {
      end = math.plus1(end)
      i++
    }
    const head = previous === undefined ? start.toString(36) : math.minus(start, previous).toString(36)
    tokens.push(end === start ? head : `${head}+${math.minus(end, start).toString(36)}`)
    previous = end
    i++
  }
  return tokens.join(",")
}

/** Canonical integer texts, in order and once each; in numbers when all are safe (most shops' TnNums), else BigInts. */
const encodeNumbers = (texts: ReadonlyArray<string>): string => {
  const sorted = [...new Set(texts)].sort(Integers.compareCanonical)
  return Integers.allSafe(sorted) ? encodeSorted(sorted, numbers) : encodeSorted(sorted, bigints)
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

