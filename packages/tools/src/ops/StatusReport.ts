/**
 * The status report: plain, JSON-ready data on the deployment (`pnpm status --json` prints it), which
 * `Status` gathers and `StatusScreen` renders. Each part holds what `Attention` reads, and more.
 */
import type * as Attention from "@dyna/core/Attention"

/** Which of the deployment's tables. */
export type TableRole = Attention.TableRole

/** One table, as DescribeTable reports it. */
export interface TableReport extends Attention.Table {
  /** DescribeTable's `ItemCount`: live on DynamoDB Local, refreshed only about every six hours on AWS. */
  readonly itemCount: number | undefined
  readonly approximate: boolean
}

/** The transactions table's stream, as DescribeTable and DescribeStream report it. */
export interface StreamReport extends Attention.Stream {
  /** Open shards (no ending sequence number) and all the stream lists. */
  readonly shards: { readonly open: number; readonly total: number } | undefined
}

/** The runner's own report (`status.json`), with its age when read. */
export interface RunnerStatus {
  readonly pid: number
  readonly startedAt: string
  readonly updatedAt: string
  readonly ageMillis: number
  readonly batches: number
  readonly records: number
  readonly onFailure: number
}

/** The local target's mapping: the runner process, its mapping file and its status file. */
export interface LocalRunner extends Attention.LocalRunner {
  readonly status: RunnerStatus | undefined
}

/** One event source mapping of the function on a stream of the transactions table. */
export interface AwsMappingEntry extends Attention.MappingEntry {
  readonly eventSourceArn: string
  readonly batchSize: number | undefined
  readonly onFailureDestination: string | undefined
}

/** The AWS target's mapping: the function and its mappings from the transactions table's streams. */
export interface AwsMapping extends Attention.AwsMapping {
  readonly mappings: ReadonlyArray<AwsMappingEntry>
}

/**
 * How far behind the mapping is. Locally it is measured on the stream: the records past each shard's
 * checkpoint that pass the mapping's filter, and the age of the oldest. DynamoDB Local stamps a record's
 * creation time to the minute, so that age is an upper bound, up to `resolutionMillis` too high.
 */
export type Lag =
  | {
    readonly _tag: "Measured"
    readonly waiting: number
    /** More were waiting than status reads (`Status.MAX_LAG_PAGES` pages per shard). */
    readonly capped: boolean
    readonly oldestAgeMillis: number | undefined
    readonly resolutionMillis: number
  }
  | { readonly _tag: "Unavailable"; readonly reason: string }

/** Records given up on (retries exhausted, too old): the local on-failure file, or where AWS sends them. */
export type OnFailureReport =
  | { readonly _tag: "Counted"; readonly records: number; readonly batches: number; readonly file: string }
  | { readonly _tag: "Destination"; readonly arn: string }
  | { readonly _tag: "NoDestination" }
  | { readonly _tag: "Unavailable"; readonly reason: string }

/** A count read by a Scan, or why it could not be. */
export type Count = { readonly _tag: "Counted"; readonly count: number } | { readonly _tag: "Unavailable"; readonly reason: string }

/** The function's own totals over a window: what its EMF lines counted, summed. */
export interface Totals {
  /** Invocations: one EMF line each. */
  readonly batches: number
  readonly applied: number
  readonly duplicates: number
  readonly quarantined: number
  readonly promotions: number
  /** Records the function reported in `batchItemFailures`, to be delivered again. */
  readonly retried: number
}

/**
 * The last hour of the function's work. Locally, summed from the EMF lines the runner's log holds (by
 * their Timestamp); on AWS, CloudWatch has the metrics, in the namespace and dimension named here.
 */
export type LastHour =
  | { readonly _tag: "Summed"; readonly totals: Totals; readonly file: string }
  | { readonly _tag: "InCloudWatch"; readonly namespace: string; readonly functionName: string }
  | { readonly _tag: "Unavailable"; readonly reason: string }

/** Everything `pnpm status` shows. */
export interface Report {
  readonly target: "local" | "aws"
  readonly generatedAt: string
  /** The DynamoDB endpoint the report was read from. */
  readonly endpoint: string
  /** The local stack's folder (`DYNA_HOME`), locally. */
  readonly home: string | undefined
  /** On AWS: the region in use and the account (read off the transactions table's ARN). */
  readonly region: string | undefined
  readonly account: string | undefined
  readonly tables: ReadonlyArray<TableReport>
  readonly stream: StreamReport
  readonly mapping: LocalRunner | AwsMapping
  readonly lag: Lag
  readonly lastHour: LastHour
  /** Items in the quarantine table (a Scan, so exact on either target). */
  readonly quarantined: Count
  readonly onFailure: OnFailureReport
  /** CustProfile items whose TotalTnValue is at least `Elite.THRESHOLD_DOLLARS` (a filtered Scan). */
  readonly elite: Count
  /** What needs someone's attention, each a sentence with what to do; empty when all is well. */
  readonly attention: ReadonlyArray<string>
}

/** A report before its attention list is worked out. */
export type Facts = Omit<Report, "attention">
