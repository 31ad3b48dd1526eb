/**
 * One line of `pnpm bench`'s table: a figure for Dyna Elite, the same figure for what a user would
 * otherwise run, measured in the same process on the same DynamoDB Local, and the ratio against its
 * target. Ratios, not absolute times, are what mean something on a noisy machine.
 */

export interface Row {
  /** Which benchmark, e.g. "1. write units per transaction (10 customers)". */
  readonly name: string
  /** What the figures measure, with their unit, e.g. "WCU/tx". */
  readonly unit: string
  readonly dyna: number
  /** The alternative it is compared with, e.g. "naive read-modify-write". */
  readonly baselineName: string
  readonly baseline: number
  /** `dyna / baseline`. */
  readonly ratio: number
  /** The target on the ratio (or on `dyna`, when `on` says so), e.g. "≤ 1.0×". */
  readonly target: string
  readonly met: boolean
  /** Anything a reader needs to read the row right: sizes, percentiles, what limits it. */
  readonly note?: string
}

/** How big to make each benchmark: `smoke` is tiny, for CI and a quick look; `full` is what the README quotes. */
export type Size = "full" | "smoke"

export interface Context {
  /** A fresh in-memory DynamoDB Local, shared by the rows (each makes its own tables). */
  readonly endpoint: string
  readonly size: Size
  /** Progress for humans, on stderr. */
  readonly log: (line: string) => void
  /** The rows this run measured before this benchmark (row 7 models from them). */
  readonly earlier: ReadonlyArray<Row>
}

/** A benchmark: one or more rows. */
export type Bench = (context: Context) => Promise<ReadonlyArray<Row>>

/** A row whose target is an upper bound on the ratio (`dyna / baseline ≤ bound`). */
export const atMost = (fields: Omit<Row, "ratio" | "target" | "met">, bound: number): Row => {
  const ratio = fields.dyna / fields.baseline
  return { ...fields, ratio, target: `≤ ${bound.toFixed(2)}×`, met: ratio <= bound }
}

/** A row whose target is a lower bound on the ratio (`dyna / baseline ≥ bound`). */
export const atLeast = (fields: Omit<Row, "ratio" | "target" | "met">, bound: number): Row => {
  const ratio = fields.dyna / fields.baseline
  return { ...fields, ratio, target: `≥ ${bound.toFixed(2)}×`, met: ratio >= bound }
}
