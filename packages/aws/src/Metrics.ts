/**
 * What each invocation reports to CloudWatch, as one Embedded Metric Format line on stdout: Lambda ships
 * stdout to CloudWatch Logs, which extracts the metrics, so no PutMetricData permission and no request.
 * The alarms and the dashboard provision makes name these metrics, and only these.
 */

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

export type MetricName = keyof typeof METRICS
