/**
 * One line of progress for long operations (backfill, reconcile), on stderr: redrawn in place on a
 * terminal, a plain line every few seconds in logs. Never on stdout, which carries data such as CSV.
 */
import * as Format from "@dyna/tools/Format"

/** What a progress line shows. */
export interface State {
  readonly label: string
  readonly done: number
  /** How many there are in all, if known; DescribeTable's ItemCount is only approximate. */
  readonly total: number | undefined
  readonly elapsedMillis: number
  readonly unit: string
}

/** Where lines go: `process.stderr` satisfies it, and so does a test's fake. */
export interface Sink {
  readonly isTTY?: boolean
  readonly columns?: number
  readonly write: (chunk: string) => unknown
}

export interface Options {
  readonly label: string
  readonly unit: string
  readonly total?: number
  readonly stream?: Sink
  readonly now?: () => number
  readonly intervalMillis?: number
}

export interface Progress {
  readonly advance: (n?: number) => void
  readonly setTotal: (total: number) => void
  readonly finish: () => void
}

/** `4s`, `2m05s`, `1h02m`: the progress line's ETA, and how long a watch ran (`Format.compactDuration`). */
export const formatDuration = Format.compactDuration

// A slow operation's "0 rows/s" would hide that it is moving at all.
const formatRate = (perSecond: number) => (perSecond < 10 ? Format.decimal : Format.number)(perSecond)

/** The progress line, without control characters: `backfill [###---] 1,234/4,000 rows  31%  812 rows/s  ETA 3s`. */
export const render = (state: State, width = 30): string => {
  const { done, elapsedMillis, label, total, unit } = state
  // Within the first second, or with nothing done yet, a rate (and an ETA built on it) would be noise.
  const rate = elapsedMillis >= 1000 && done > 0 ? done / (elapsedMillis / 1000) : undefined
  const rateField = rate === undefined ? [] : [`${formatRate(rate)} ${unit}/s`]
  // Once done passes an approximate total, a bar, percent or ETA would be wrong: the count is all we know.
  if (total === undefined || total <= 0 || done > total) {
    return [`${label} ${Format.number(done)} ${unit}`, ...rateField].join("  ")
  }
  const fraction = done / total
  const filled = Math.min(width, Math.max(0, Math.floor(fraction * width)))
  // Rounding may not claim 100% while work remains.
  const percent = done < total ? Math.min(99, Math.round(fraction * 100)) : 100
  const eta = rate !== undefined && done < total ? [`ETA ${formatDuration(((total - done) / rate) * 1000)}`] : []
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`
  return [`${label} ${bar} ${Format.number(done)}/${Format.number(total)} ${unit}`, `${percent}%`, ...rateField, ...eta]
    .join("  ")
}

/**
 * A reporter on `stream` (stderr by default). Drawing is throttled to one per `intervalMillis`
 * (100 ms on a terminal, 5 s in logs); `finish` always draws the final state and ends the line.
 */
export const make = (options: Options): Progress => {
  const { label, unit } = options
  const stream = options.stream ?? process.stderr
  // Monotonic, so a wall-clock adjustment neither stalls the throttle nor skews the rate.
  const now = options.now ?? (() => performance.now())
  const tty = stream.isTTY === true
  const interval = options.intervalMillis ?? (tty ? 100 : 5000)
  const startedAt = now()
  let done = 0
  let total = options.total
  let drawnAt = startedAt
  let finished = false

  const draw = (at: number, final: boolean) => {
    drawnAt = at
    const line = render({ label, done, total, elapsedMillis: at - startedAt, unit })
    if (!tty) {
      stream.write(`${line}\n`)
      return
    }
    // A line wider than the terminal wraps, and `\r` would then redraw only its last row.
    const fitted = stream.columns !== undefined && stream.columns > 1 ? line.slice(0, stream.columns - 1) : line
    stream.write(`\r${fitted}\x1b[K${final ? "\n" : ""}`)
  }

  return {
    advance: (n = 1) => {
      if (finished) return
      done += n
      const at = now()
      if (at - drawnAt >= interval) draw(at, false)
    },
    setTotal: (next) => {
      total = next
    },
    finish: () => {
      if (finished) return
      finished = true
      draw(now(), true)
    }
  }
}
