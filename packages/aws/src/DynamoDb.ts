/**
 * The DynamoDB client as a service: built once, closed by a finalizer, and the only place that turns
 * SDK exceptions into `DynamoDbError`s (read by `AwsCall`, like the Lambda and IAM clients').
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as AwsCall from "./AwsCall.js"

/** What kind of failure a DynamoDB call met: retry policies and messages are chosen by it. */
export const ErrorKind = Schema.Literals(["ConditionFailed", "Transient", "Unreachable", "NotFound", "Other"])
export type ErrorKind = typeof ErrorKind.Type

export class DynamoDbError extends Schema.TaggedError<DynamoDbError>()("DynamoDbError", {
  operation: Schema.String,
  kind: ErrorKind,
  endpoint: Schema.String,
  cause: Schema.Defect()
}) {
  override get message() {
    if (AwsCall.isMissingCredentials(this.cause)) return AwsCall.noCredentials(this.cause)
    const detail = AwsCall.detail(this.cause)
    if (this.kind !== "Unreachable") return `DynamoDB ${this.operation} failed (${this.kind}): ${detail}`
    const unreachable = `DynamoDB is not reachable at ${this.endpoint} (${this.operation}: ${detail})`
    return isLoopback(this.endpoint)
      ? `${unreachable}; on the local stack, run \`pnpm provision\``
      : `${unreachable}; check the network connection and the region (--region or AWS_REGION)`
  }
}

/** Classifies an SDK failure; exported for the tests that feed it real SDK exceptions. */
export const kindOf = (cause: unknown): ErrorKind => {
  const reported = AwsCall.reported(cause)
  if (reported.name === "ConditionalCheckFailedException") return "ConditionFailed"
  if (reported.name === "ResourceNotFoundException") return "NotFound"
  if (reported.name === "TransactionCanceledException") return cancellationKind(cause)
  // DynamoDB's and its streams' throttling of control and stream calls (too many at once), not a quota.
  if (reported.name === "LimitExceededException") return "Transient"
  if (AwsCall.isUnreachable(reported)) return "Unreachable"
  if (AwsCall.isTransient(reported)) return "Transient"
  return "Other"
}

/**
 * A cancelled TransactWriteItems says why per item: a failed condition is a lost race like a single
 * write's; a conflict with another transaction or throttling is worth another try.
 */
const cancellationKind = (cause: unknown): ErrorKind => {
  const reasons = typeof cause === "object" && cause !== null && "CancellationReasons" in cause && Array.isArray(cause.CancellationReasons)
    ? cause.CancellationReasons as ReadonlyArray<{ readonly Code?: string }>
    : []
  const codes = reasons.map((r) => r.Code)
  if (codes.includes("ConditionalCheckFailed")) return "ConditionFailed"
  if (codes.some((c) => c === "TransactionConflict" || c === "ThrottlingError" || c === "ProvisionedThroughputExceeded")) return "Transient"
  return "Other"
}

// "Item size has exceeded …" (PutItem, a too large value) or "Item size to update has exceeded …" (UpdateItem).
const ITEM_TOO_LARGE = /item size (to update )?has exceeded the maximum allowed size/i

/**
 * Whether a write was refused because the item would pass DynamoDB's 400 KB limit, said in the
 * exception's message or, for a transaction, in one item's cancellation reason.
 */
export const isItemTooLarge = (error: DynamoDbError): boolean => {
  const cause = error.cause
  if (cause instanceof Error && ITEM_TOO_LARGE.test(cause.message)) return true
  const reasons = typeof cause === "object" && cause !== null && "CancellationReasons" in cause && Array.isArray(cause.CancellationReasons)
    ? cause.CancellationReasons as ReadonlyArray<{ readonly Message?: string }>
    : []
  return reasons.some((r) => ITEM_TOO_LARGE.test(r.Message ?? ""))
}

/** Where a client sends its requests, for messages: the configured endpoint or the region's. */
const endpointLabel = (endpoint: string | undefined, region: string) => endpoint ?? `dynamodb.${region}.amazonaws.com`

/** Whether an endpoint URL points at this machine (where DynamoDB Local runs). */
export const isLoopback = (endpoint: string) => {
  try {
    const host = new URL(endpoint).hostname
    return host === "localhost" || host === "[::1]" || host.startsWith("127.")
  } catch {
    return false
  }
}

/**
 * Options for a DynamoDB (or DynamoDB Streams) client, read from configuration like the SDK's own:
 * the endpoint, `AWS_REGION`. Retries are ours (`Retry.ts`), so the SDK makes one attempt. DynamoDB
 * Local checks no credentials: on a loopback endpoint without `AWS_ACCESS_KEY_ID`, placeholders spare a
 * fresh machine any AWS setup.
 */
export const clientConfig = (endpointConfig: Config.Config<Option.Option<string>>) =>
  Config.all({
    endpoint: endpointConfig,
    region: AwsCall.region,
    accessKeyId: Config.option(Config.String("AWS_ACCESS_KEY_ID"))
  }).pipe(Config.map(({ endpoint: configured, region, accessKeyId }) => {
    const endpoint = Option.getOrUndefined(configured)
    const placeholders = endpoint !== undefined && isLoopback(endpoint) && Option.isNone(accessKeyId)
    return {
      endpoint,
      region,
      options: {
        region,
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(placeholders ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {})
      }
    }
  }))

export class DynamoDb extends Context.Service<DynamoDb, {
  /** The client itself, for the rare caller that needs SDK waiters. */
  readonly client: DynamoDBClient
  readonly endpoint: string
  /** Runs one SDK call; its failure is classified once, here. */
  readonly call: <A>(operation: string, f: (client: DynamoDBClient) => Promise<A>) => Effect.Effect<A, DynamoDbError>
}>()("dyna-elite/aws/DynamoDb") {
  /** A service over a client someone else built and owns (tests inject faults into it). */
  static readonly fromClient = (client: DynamoDBClient, endpoint: string) =>
    DynamoDb.of({
      client,
      endpoint,
      call: AwsCall.caller(client, (operation, cause) => new DynamoDbError({ operation, kind: kindOf(cause), endpoint, cause }))
    })

  /** A client on `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_REGION` (see {@link clientConfig}). */
  static readonly layer = Layer.effect(
    DynamoDb,
    Effect.gen(function*() {
      const { endpoint, region, options } = yield* clientConfig(Config.option(Config.String("AWS_ENDPOINT_URL_DYNAMODB")))
      const client = yield* AwsCall.acquire(() => new DynamoDBClient(options))
      return DynamoDb.fromClient(client, endpointLabel(endpoint, region))
    })
  )
}
