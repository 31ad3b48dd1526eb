/**
 * Attention: what in a deployment's status needs someone — a missing table or stream, a reader of the
 * stream that is not running or not keeping up. Plain facts in, a list of problems out; the words and
 * the commands that fix each are the screen's.
 *
 * @since 0.1.0
 */

/**
 * Which of the deployment's tables.
 *
 * @since 0.1.0
 * @category models
 */
export type TableRole = "transactions" | "profiles" | "quarantine" | "events"

/**
 * What the rules read of a table: whether it exists.
 *
 * @since 0.1.0
 * @category models
 */
export interface Table {
  readonly role: TableRole
  readonly name: string
  readonly exists: boolean
}

/**
 * What the rules read of the transactions table's stream.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stream {
  readonly table: string
  readonly enabled: boolean
  readonly viewType: string | undefined
  readonly arn: string | undefined
  /** DescribeStream's `StreamStatus`: `ENABLED`, `ENABLING`, `DISABLING`, `DISABLED`. */
  readonly status: string | undefined
  /** Why DescribeStream could not be read, when it could not. */
  readonly error: string | undefined
}

/**
 * What the rules read of the local runner: its process, the stream it reads, the age of its last report.
 *
 * @since 0.1.0
 * @category models
 */
export interface LocalRunner {
  readonly _tag: "LocalRunner"
  /** The pid in `runner.pid` when that process is alive. */
  readonly pid: number | undefined
  /** The stream the runner's mapping file says it reads; `undefined` before the first provision. */
  readonly streamArn: string | undefined
  readonly status: { readonly ageMillis: number } | undefined
  /** The status file is older than {@link STALE_AFTER_MILLIS}: see {@link isStale}. */
  readonly stale: boolean
}

/**
 * What the rules read of one event source mapping of the function on the transactions table's streams.
 *
 * @since 0.1.0
 * @category models
 */
export interface MappingEntry {
  readonly uuid: string
  /** It reads the table's current stream (the others read a stream that was replaced). */
  readonly current: boolean
  readonly state: string
  readonly stateTransitionReason: string | undefined
  /** `OK`, `PROBLEM: …`, or `No records processed`, as Lambda says it. */
  readonly lastProcessingResult: string | undefined
}

/**
 * What the rules read of the function on AWS and its mappings.
 *
 * @since 0.1.0
 * @category models
 */
export interface AwsMapping {
  readonly _tag: "AwsMapping"
  readonly functionName: string
  /** `undefined` when there is no function of that name. */
  readonly function: { readonly runtime: string | undefined; readonly state: string | undefined } | undefined
  readonly mappings: ReadonlyArray<MappingEntry>
  /** Why the function or its mappings could not be read, when they could not. */
  readonly error: string | undefined
}

/**
 * What the rules read of the lag: the age of the oldest record waiting and how coarse that age is.
 *
 * @since 0.1.0
 * @category models
 */
export type Lag =
  | { readonly _tag: "Measured"; readonly oldestAgeMillis: number | undefined; readonly resolutionMillis: number }
  | { readonly _tag: "Unavailable" }

/**
 * The facts the rules look at; a status report holds more, and passes as these.
 *
 * @since 0.1.0
 * @category models
 */
export interface Facts {
  readonly tables: ReadonlyArray<Table>
  readonly stream: Stream
  readonly mapping: LocalRunner | AwsMapping
  readonly lag: Lag
}

/**
 * One thing that needs attention, with what the screen needs to say it.
 *
 * @since 0.1.0
 * @category models
 */
export type Problem =
  | { readonly _tag: "TableMissing"; readonly table: string }
  | { readonly _tag: "NoStream"; readonly table: string }
  | { readonly _tag: "NotNewImages"; readonly table: string; readonly viewType: string | undefined }
  | { readonly _tag: "StreamUnreadable"; readonly error: string }
  | { readonly _tag: "StreamNotEnabled"; readonly status: string }
  | { readonly _tag: "RunnerNotRunning" }
  | { readonly _tag: "RunnerSilent"; readonly pid: number }
  | { readonly _tag: "RunnerStale"; readonly pid: number; readonly ageMillis: number }
  | { readonly _tag: "RunnerOnReplacedStream"; readonly streamArn: string }
  | { readonly _tag: "MappingUnreadable"; readonly error: string }
  | { readonly _tag: "FunctionMissing"; readonly functionName: string }
  | { readonly _tag: "NoMapping"; readonly functionName: string }
  | { readonly _tag: "MappingNotEnabled"; readonly uuid: string; readonly state: string; readonly reason: string | undefined }
  | { readonly _tag: "MappingFailing"; readonly uuid: string; readonly result: string }
  | { readonly _tag: "MappingsOnReplacedStream"; readonly functionName: string; readonly count: number }
  | { readonly _tag: "RecordsWaiting"; readonly certainlyMillis: number }

/**
 * The runner rewrites its status file every second: a report older than this means it is stuck or gone.
 *
 * @since 0.1.0
 * @category constants
 */
export const STALE_AFTER_MILLIS = 5_000

/**
 * Records past the checkpoint that have certainly waited this long mean the reader is not keeping up.
 *
 * @since 0.1.0
 * @category constants
 */
export const STUCK_AFTER_MILLIS = 60_000

/**
 * Whether a runner's last report, this old, means it stopped reporting. An age that is not a number
 * (a report whose time cannot be read) counts as stale too.
 *
 * @since 0.1.0
 * @category rules
 */
export const isStale = (ageMillis: number): boolean => !(ageMillis <= STALE_AFTER_MILLIS)

const streamProblems = (f: Facts): ReadonlyArray<Problem> => {
  const s = f.stream
  if (!s.enabled) return [{ _tag: "NoStream", table: s.table }]
  if (s.viewType !== "NEW_IMAGE" && s.viewType !== "NEW_AND_OLD_IMAGES") return [{ _tag: "NotNewImages", table: s.table, viewType: s.viewType }]
  if (s.error !== undefined) return [{ _tag: "StreamUnreadable", error: s.error }]
  if (s.status !== undefined && s.status !== "ENABLED") return [{ _tag: "StreamNotEnabled", status: s.status }]
  return []
}

const runnerProblems = (m: LocalRunner, stream: Stream): ReadonlyArray<Problem> => {
  const running: ReadonlyArray<Problem> = m.pid === undefined
    ? [{ _tag: "RunnerNotRunning" }]
    : m.status === undefined
    ? [{ _tag: "RunnerSilent", pid: m.pid }]
    : m.stale
    ? [{ _tag: "RunnerStale", pid: m.pid, ageMillis: m.status.ageMillis }]
    : []
  const replaced: ReadonlyArray<Problem> = m.streamArn !== undefined && stream.arn !== undefined && m.streamArn !== stream.arn
    ? [{ _tag: "RunnerOnReplacedStream", streamArn: m.streamArn }]
    : []
  return [...running, ...replaced]
}

const awsProblems = (m: AwsMapping, stream: Stream): ReadonlyArray<Problem> => {
  if (m.error !== undefined) return [{ _tag: "MappingUnreadable", error: m.error }]
  if (m.function === undefined) return [{ _tag: "FunctionMissing", functionName: m.functionName }]
  const current = m.mappings.filter((e) => e.current)
  const none: ReadonlyArray<Problem> = current.length === 0 && stream.arn !== undefined ? [{ _tag: "NoMapping", functionName: m.functionName }] : []
  const each = current.flatMap((e) => {
    const out: Array<Problem> = []
    if (e.state !== "Enabled") out.push({ _tag: "MappingNotEnabled", uuid: e.uuid, state: e.state, reason: e.stateTransitionReason })
    if (e.lastProcessingResult?.startsWith("PROBLEM") === true) out.push({ _tag: "MappingFailing", uuid: e.uuid, result: e.lastProcessingResult })
    return out
  })
  const stale = m.mappings.filter((e) => !e.current).length
  const replaced: ReadonlyArray<Problem> = stale > 0 ? [{ _tag: "MappingsOnReplacedStream", functionName: m.functionName, count: stale }] : []
  return [...none, ...each, ...replaced]
}

const lagProblems = (lag: Lag): ReadonlyArray<Problem> => {
  if (lag._tag !== "Measured" || lag.oldestAgeMillis === undefined) return []
  // The age is an upper bound, up to the resolution too high: only what has certainly waited counts.
  const certainly = lag.oldestAgeMillis - lag.resolutionMillis
  return certainly >= STUCK_AFTER_MILLIS ? [{ _tag: "RecordsWaiting", certainlyMillis: certainly }] : []
}

/**
 * The problems in the facts, in the order the screen lists them: tables, the stream (only when the
 * transactions table exists), whatever reads the stream, the lag. Empty when all is well.
 *
 * @since 0.1.0
 * @category rules
 */
export const of = (f: Facts): ReadonlyArray<Problem> => [
  ...f.tables.filter((t) => !t.exists).map((t): Problem => ({ _tag: "TableMissing", table: t.name })),
  ...(f.tables.find((t) => t.role === "transactions")?.exists === true ? streamProblems(f) : []),
  ...(f.mapping._tag === "LocalRunner" ? runnerProblems(f.mapping, f.stream) : awsProblems(f.mapping, f.stream)),
  ...lagProblems(f.lag)
]
