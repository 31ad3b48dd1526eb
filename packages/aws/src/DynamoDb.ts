/**
 * The DynamoDB client as a service: built once, closed by a finalizer, and the only place that turns
 * SDK exceptions into `DynamoDbError`s (read by `AwsCall`, like the Lambda and IAM clients').
 */
import { type ConsumedCapacity, DynamoDBClient } from "@aws-sdk/client-dynamodb"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as AwsCall from "./AwsCall.js"
import * as Environment from "./Environment.js"

/** What kind of failure a DynamoDB call met: retry policies and messages are chosen by it. */
export const ErrorKind = Schema.Literals(["ConditionFailed", "Transient", "Unreachable", "NotFound", "AccessDenied", "Other"])
export type ErrorKind = typeof ErrorKind.Type

/** A failed DynamoDB call, classified once (`kind`) and naming its operation, endpoint and table, so a message says what to fix. */
export class DynamoDbError extends Schema.TaggedError<DynamoDbError>()("DynamoDbError", {
  operation: Schema.String,
  kind: ErrorKind,
  endpoint: Schema.String,
  /** What the call named, read off its input (`table CustProfile`, `stream arn:…`), for messages. */
  resource: Schema.optional(Schema.String),
  cause: Schema.Defect()
}) {
  override get message() {
    if (AwsCall.isMissingCredentials(this.cause)) return AwsCall.noCredentials(this.cause)
    const detail = AwsCall.detail(this.cause)
    if (this.kind === "AccessDenied") {
      const on = this.resource === undefined ? "" : ` on ${this.resource}`
      return `DynamoDB ${this.operation}${on} was denied (${detail}): the AWS credentials in use need permission for dynamodb:${this.operation}${on}`
    }
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
  if (AwsCall.isAccessDenied(reported)) return "AccessDenied"
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

/**
 * The capacity units a response reports (`ReturnConsumedCapacity: "TOTAL"`), summed over its tables: one
 * `ConsumedCapacity` for a single-item write, one per table for a transaction; 0 when none was reported.
 */
export const capacityUnits = (consumed: ConsumedCapacity | ReadonlyArray<ConsumedCapacity> | undefined): number =>
  (consumed === undefined ? [] : "length" in consumed ? consumed : [consumed])
    .reduce((sum, c) => sum + (c.CapacityUnits ?? c.WriteCapacityUnits ?? 0), 0)

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

const stringAt = (u: unknown, key: string): string | undefined => {
  const value = typeof u === "object" && u !== null ? Reflect.get(u, key) : undefined
  return typeof value === "string" ? value : undefined
}

/**
 * What a DynamoDB or DynamoDB Streams request names, from its input: the table (or the tables of a
 * batch or transaction), else the stream; undefined for calls on no resource (ListTables, GetRecords).
 */
export const resourceOf = (input: unknown): string | undefined => {
  const table = stringAt(input, "TableName")
  if (table !== undefined) return `table ${table}`
  const stream = stringAt(input, "StreamArn")
  if (stream !== undefined) return `stream ${stream}`
  const requestItems = typeof input === "object" && input !== null ? Reflect.get(input, "RequestItems") : undefined
  const transactItems = typeof input === "object" && input !== null ? Reflect.get(input, "TransactItems") : undefined
  const tables = typeof requestItems === "object" && requestItems !== null
    ? Object.keys(requestItems)
    : Array.isArray(transactItems)
    ? transactItems.flatMap((item: unknown) =>
      typeof item === "object" && item !== null ? Object.values(item).flatMap((action: unknown) => stringAt(action, "TableName") ?? []) : []
    )
    : []
  const distinct = [...new Set(tables)]
  return distinct.length === 0 ? undefined : `${distinct.length === 1 ? "table" : "tables"} ${distinct.join(", ")}`
}

// An SDK exception does not carry the request's input: a middleware on each client notes it here as the
// exception passes, for `errorOf` to name the resource.
const failedInputs = new WeakMap<object, unknown>()

/**
 * For the middleware `DynamoDb` and `DynamoDbStreams` put on their clients (`.catch(noteInput(args.input))`):
 * notes a failed request's input beside its exception, and fails again with it.
 */
export const noteInput = (input: unknown) => (cause: unknown): Promise<never> => {
  if (typeof cause === "object" && cause !== null) failedInputs.set(cause, input)
  return Promise.reject(cause)
}

/** Where that middleware sits: outermost, and once per client however often it is wrapped. */
export const noteInputOptions = { step: "initialize", priority: "high", name: "dynaEliteNoteInput", override: true } as const

/** A failed DynamoDB or DynamoDB Streams call as our error, classified once, naming what it was on. */
export const errorOf = (operation: string, cause: unknown, endpoint: string): DynamoDbError =>
  new DynamoDbError({
    operation,
    kind: kindOf(cause),
    endpoint,
    resource: typeof cause === "object" && cause !== null ? resourceOf(failedInputs.get(cause)) : undefined,
    cause
  })

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
 * DynamoDB Local's region when none is configured. It runs with `-sharedDb`, so every region reaches the
 * same database; the region only has to be there for the SDK to sign with.
 */
export const LOCAL_REGION = "us-east-1"

/**
 * Options for a DynamoDB (or DynamoDB Streams) client on `endpoint`, read from the environment:
 * `AWS_REGION` (`AwsCall.region`; on a loopback endpoint, DynamoDB Local's, {@link LOCAL_REGION} when
 * unset). Retries are ours (`Retry.ts`), so the SDK makes one attempt. DynamoDB Local checks no
 * credentials: on a loopback endpoint without `AWS_ACCESS_KEY_ID`, placeholders spare a fresh machine
 * any AWS setup.
 */
export const clientConfig = (endpoint: string | undefined) =>
  Effect.gen(function*() {
    const local = endpoint !== undefined && isLoopback(endpoint)
    const configuredRegion = yield* Environment.optional("AWS_REGION")
    const region = configuredRegion ?? (local ? LOCAL_REGION : yield* AwsCall.region)
    const accessKeyId = yield* Environment.optional("AWS_ACCESS_KEY_ID")
    return {
      endpoint,
      region,
      options: {
        region,
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(local && accessKeyId === undefined ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {})
      }
    }
  })

/** The one DynamoDB client as a service: built once per runtime, closed by a finalizer, every call classified by `call`. */
export class DynamoDb extends Context.Service<DynamoDb, {
  /** The client itself, for the rare caller that needs SDK waiters. */
  readonly client: DynamoDBClient
  readonly endpoint: string
  /** Runs one SDK call; its failure is classified once, here. */
  readonly call: <A>(operation: string, f: (client: DynamoDBClient) => Promise<A>) => Effect.Effect<A, DynamoDbError>
}>()("dyna-elite/aws/DynamoDb") {
  /** A service over a client someone else built and owns (tests inject faults into it). */
  static readonly fromClient = (client: DynamoDBClient, endpoint: string) => {
    client.middlewareStack.add((next) => (args) => next(args).catch(noteInput(args.input)), noteInputOptions)
    return DynamoDb.of({ client, endpoint, call: AwsCall.caller(client, (operation, cause) => errorOf(operation, cause, endpoint)) })
  }

  /** A client on `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_REGION` (see {@link clientConfig}). */
  static readonly layer = Layer.effect(
    DynamoDb,
    Effect.gen(function*() {
      const { endpoint, region, options } = yield* clientConfig(yield* Environment.optional("AWS_ENDPOINT_URL_DYNAMODB"))
      const client = yield* AwsCall.acquire(() => new DynamoDBClient(options))
      return DynamoDb.fromClient(client, endpointLabel(endpoint, region))
    })
  )
}
