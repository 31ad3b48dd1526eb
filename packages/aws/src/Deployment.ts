/**
 * What gets deployed, defined once: resource names, the function's settings and the event source
 * mapping's. The AWS target sends these; the local runner obeys the same mapping settings.
 */
import * as Schema from "effect/Schema"
import * as Tables from "./Tables.js"

/** The Jam's function name (its tables' are `Tables.jamTableNames`); `--prefix` puts a prefix before each for other environments. */
export const DEFAULT_FUNCTION_NAME = "JAM_Lambda_Exec_Function_EDIT_THIS"

/** Every resource name of one deployment: its tables, function, role and policy. */
export interface Names extends TableNames {
  /** What `--prefix` put before every name ("" for the Jam's names). */
  readonly prefix: string
  readonly functionName: string
  /** The role we create when the function does not exist yet (an adopted function keeps its own). */
  readonly roleName: string
  /** The name of the inline policy we put on the function's role. */
  readonly policyName: string
}

/** The names of the deployment `--prefix` names: the Jam's with the prefix before each (the Jam's own for ""). */
export const names = (prefix = ""): Names => ({
  prefix,
  transactions: `${prefix}${Tables.jamTableNames.transactions}`,
  profiles: `${prefix}${Tables.jamTableNames.profiles}`,
  rejected: `${prefix}${Tables.jamTableNames.rejected}`,
  events: `${prefix}${Tables.jamTableNames.events}`,
  functionName: `${prefix}${DEFAULT_FUNCTION_NAME}`,
  roleName: `${prefix}DynaEliteFunctionRole`,
  policyName: "DynaEliteStreamAndTables"
})

/** Where a deployment lives: the partition, region and account its ARNs name. */
export interface Location {
  readonly partition: string
  readonly region: string
  readonly account: string
}

/**
 * The S3 bucket the AWS mapping sends the batches Lambda gave up on to. Bucket names are global and
 * lowercase, so the account and region are in it; the prefix, lowercased, comes first (at most 63 characters).
 */
export const onFailureBucketName = (prefix: string, at: Location): string =>
  `${prefix.toLowerCase().replace(/[^a-z0-9.-]/g, "-")}dyna-elite-on-failure-${at.account}-${at.region}`.slice(0, 63).replace(/[.-]+$/, "")

/** A tag, as the AWS APIs that take a map of them want it. */
export interface OwnerTag {
  readonly key: string
  readonly value: string
}

/**
 * The tag provision puts on everything it creates (tables, role, function, mapping, bucket); teardown
 * deletes only what carries it with this deployment's value, the region and prefix (`eu-west-1/dev-`),
 * so one deployment's teardown never removes another's. What was there before (the Jam's tables,
 * function and role) never gets it, so it is never deleted without being asked by name.
 */
export const ownerTag = (prefix: string, region: string): OwnerTag => ({ key: "dyna-elite", value: `${region}/${prefix}` })

/** Whether a resource's tags say this deployment created it. */
export const isOwnedBy = (tag: OwnerTag, tags: Readonly<Record<string, string>> | undefined): boolean => tags?.[tag.key] === tag.value

/**
 * The Lambda function: one ESM file, `index.mjs`, exporting `handler`. Node.js 24 is supported by Lambda
 * until 2028 (`nodejs22.x` is deprecated on 30 April 2027); a function on another runtime is moved to it.
 */
export const functionSettings = {
  runtime: "nodejs24.x",
  handler: "index.handler",
  /** The file inside the zip, and what the local runner imports. */
  fileName: "index.mjs",
  memorySize: 256,
  timeoutSeconds: 30
} as const

/** What `pnpm provision` lets an operator set in the function's environment. */
export interface FunctionOptions {
  /** How long the quarantine keeps a record (`--quarantine-days`, the function's `QUARANTINE_DAYS`). */
  readonly quarantineDays: number
}

/** What provision deploys when no flag says otherwise: a month gives an operator time to replay a quarantined record. */
export const defaultFunctionOptions: FunctionOptions = { quarantineDays: 30 }

/** The function's environment: which tables it works on, and how long the quarantine keeps a record. */
export const functionEnvironment = (n: TableNames, options: FunctionOptions = defaultFunctionOptions): Readonly<Record<string, string>> => ({
  ...tableEnvironment(n),
  LOG_LEVEL: "Info",
  QUARANTINE_DAYS: String(options.quarantineDays)
})

/** The four table names, as `Tables` defines them; kept under this name for what reads a deployment's names. */
export type TableNames = Tables.TableNames

/** The table names as the configuration variables `Tables` reads (`Tables.variables`). */
export const tableEnvironment = (n: TableNames): Readonly<Record<string, string>> => ({
  [Tables.variables.transactions]: n.transactions,
  [Tables.variables.profiles]: n.profiles,
  [Tables.variables.rejected]: n.rejected,
  [Tables.variables.events]: n.events
})

/** Every table, in the order provision makes them. */
export const tableNames = (n: TableNames): ReadonlyArray<string> => [n.transactions, n.profiles, n.rejected, n.events]

/**
 * The event source mapping from the CustTransactions stream to the function.
 *
 * - Only INSERTs reach the function (filtered records are neither billed nor delivered).
 * - The handler reports failed records, so one bad customer does not hold back the batch; on a function
 *   error the batch is bisected to isolate the record that causes it.
 * - Retries and record age are bounded so a poison record cannot stall its shard for the stream's 24 h.
 * - No batching window: a purchase should show on the profile well under a second later.
 * - Lambda counts the records it polled, filtered out, invoked with, dropped and sent to the on-failure
 *   destination (`MetricsConfig` `EventCount`); the alarms and the dashboard read them. The local runner ignores it.
 */
export const MappingSettings = Schema.Struct({
  /** EventBridge-style patterns, as JSON text, as `FilterCriteria.Filters[].Pattern` takes them. */
  filterPatterns: Schema.Array(Schema.String),
  batchSize: Schema.Int,
  maximumBatchingWindowInSeconds: Schema.Number,
  functionResponseTypes: Schema.Array(Schema.Literal("ReportBatchItemFailures")),
  bisectBatchOnFunctionError: Schema.Boolean,
  maximumRetryAttempts: Schema.Int,
  maximumRecordAgeInSeconds: Schema.Int,
  parallelizationFactor: Schema.Int,
  startingPosition: Schema.Literals(["TRIM_HORIZON", "LATEST"]),
  /** The event source mapping metrics Lambda emits (`MetricsConfig.Metrics`); only AWS has them. */
  metrics: Schema.Array(Schema.Literal("EventCount"))
})
export type MappingSettings = typeof MappingSettings.Type

/** The settings the event source mapping is deployed with on AWS, and the local runner obeys. */
export const mappingSettings: MappingSettings = {
  filterPatterns: [JSON.stringify({ eventName: ["INSERT"] })],
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  functionResponseTypes: ["ReportBatchItemFailures"],
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 10,
  maximumRecordAgeInSeconds: 6 * 60 * 60,
  parallelizationFactor: 1,
  startingPosition: "TRIM_HORIZON",
  metrics: ["EventCount"]
}
