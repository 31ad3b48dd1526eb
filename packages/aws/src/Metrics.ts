/**
 * What each invocation reports to CloudWatch, as one Embedded Metric Format line on stdout: Lambda ships
 * stdout to CloudWatch Logs, which extracts the metrics, so no PutMetricData permission and no request.
 * The alarms and the dashboard provision makes name these metrics, and only these.
 */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Environment from "./Environment.js"

/** The CloudWatch namespace of every metric the function emits. */
export const NAMESPACE = "DynaElite"

/** The one dimension: the function's name (`AWS_LAMBDA_FUNCTION_NAME`, locally the runner's). */
export const DIMENSION = "FunctionName"

/** Every metric an invocation emits, with its CloudWatch unit. */
export const METRICS = {
  RecordsReceived: "Count",
  RecordsApplied: "Count",
  DuplicatesSkipped: "Count",
  Unguarded: "Count",
  Quarantined: "Count",
  Retried: "Count",
  Promotions: "Count",
  RacesLost: "Count",
  ProfileWrites: "Count",
  WriteUnits: "Count",
  BatchDuration: "Milliseconds"
} as const

/** The name of one metric the function emits. */
export type MetricName = keyof typeof METRICS

/** One invocation's value of every metric. */
export type Values = { readonly [Name in MetricName]: number }

/** Where CloudWatch Logs finds the metrics of an EMF line: their namespace, dimension and names with units. */
export interface Directive {
  readonly Namespace: string
  readonly Dimensions: ReadonlyArray<ReadonlyArray<string>>
  readonly Metrics: ReadonlyArray<{ readonly Name: string; readonly Unit: string }>
}

/**
 * One Embedded Metric Format line: the `_aws` metadata (the time in epoch milliseconds, what to extract)
 * and, at the top level, the dimension's value and each metric's value.
 */
export type Line = Values & {
  readonly _aws: { readonly Timestamp: number; readonly CloudWatchMetrics: ReadonlyArray<Directive> }
  readonly FunctionName: string
}

const isMetricName = (name: string): name is MetricName => Object.hasOwn(METRICS, name)

/** Every metric's name, in the order `METRICS` lists them. */
export const NAMES: ReadonlyArray<MetricName> = Object.keys(METRICS).filter(isMetricName)

/** The EMF object for one invocation's values, by the function `functionName`, at `timestamp` (epoch ms). Pure. */
export const line = (values: Values, functionName: string, timestamp: number): Line => ({
  _aws: {
    Timestamp: timestamp,
    CloudWatchMetrics: [{
      Namespace: NAMESPACE,
      Dimensions: [[DIMENSION]],
      Metrics: NAMES.map((Name) => ({ Name, Unit: METRICS[Name] }))
    }]
  },
  FunctionName: functionName,
  ...values
})

/** The dimension's value when `AWS_LAMBDA_FUNCTION_NAME` is unset: outside Lambda and the local runner (tests). */
export const UNNAMED = "unnamed"

/** `AWS_LAMBDA_FUNCTION_NAME`, which Lambda sets (and the local runner, for the function it runs). */
export const functionName = Environment.orDefault("AWS_LAMBDA_FUNCTION_NAME", UNNAMED)

/**
 * Writes the invocation's EMF line to stdout, as one line of JSON. Not through the logger: CloudWatch
 * reads `_aws` only at the top level of a log event. Never fails: metrics must not fail a batch.
 */
export const emit = (values: Values) =>
  Effect.gen(function*() {
    const name = yield* functionName
    const now = yield* Clock.currentTimeMillis
    yield* Console.log(JSON.stringify(line(values, name, now)))
  })

const Metadata = Schema.Struct({
  _aws: Schema.Struct({
    Timestamp: Schema.Number,
    CloudWatchMetrics: Schema.Array(Schema.Struct({
      Namespace: Schema.String,
      Dimensions: Schema.Array(Schema.Array(Schema.String)),
      Metrics: Schema.Array(Schema.Struct({ Name: Schema.String, Unit: Schema.optional(Schema.String) }))
    }))
  })
})
const decodeMetadata = Schema.decodeUnknownOption(Schema.fromJsonString(Metadata))
const decodeMembers = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Record(Schema.String, Schema.Unknown)))

/** An EMF line as read back: when, by which function, the names it declares and the values of ours it holds. */
export interface Emitted {
  readonly timestamp: number
  readonly namespaces: ReadonlyArray<string>
  readonly functionName: string | undefined
  /** Every metric name the line declares to CloudWatch, in every namespace. */
  readonly names: ReadonlyArray<string>
  /** The values of the metrics `METRICS` names that the line holds as numbers. */
  readonly values: Partial<Values>
}

/**
 * Reads one log line as an EMF line: `undefined` for any other line (a JSON log line, a stack trace).
 * What `pnpm status` reads the runner's log with, and what tests read a handler's output with.
 */
export const decode = (text: string): Emitted | undefined => {
  const metadata = decodeMetadata(text)
  if (Option.isNone(metadata)) return undefined
  const members = Option.getOrElse(decodeMembers(text), (): Record<string, unknown> => ({}))
  const values: Partial<Record<MetricName, number>> = {}
  for (const name of NAMES) {
    const value = members[name]
    if (typeof value === "number") values[name] = value
  }
  const directives = metadata.value._aws.CloudWatchMetrics
  const dimension = members[DIMENSION]
  return {
    timestamp: metadata.value._aws.Timestamp,
    namespaces: directives.map((d) => d.Namespace),
    functionName: typeof dimension === "string" ? dimension : undefined,
    names: directives.flatMap((d) => d.Metrics.map((m) => m.Name)),
    values
  }
}

/** The metric names an EMF line declares; empty for a line that is not one. For the dashboard's and alarms' tests. */
export const emittedNames = (text: string): ReadonlyArray<string> => decode(text)?.names ?? []
