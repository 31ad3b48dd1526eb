/**
 * The DynamoDB Streams client as a service, configured like `DynamoDb`'s: its failures are the same
 * `DynamoDbError`s, classified by `DynamoDb.kindOf`. The local runner reads the stream through it.
 */
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as AwsCall from "./AwsCall.js"
import { DynamoDbError, isLoopback, kindOf } from "./DynamoDb.js"

/** Reads DynamoDB streams: `DescribeStream`, `GetShardIterator`, `GetRecords`. */
export class DynamoDbStreams extends Context.Service<DynamoDbStreams, {
  readonly client: DynamoDBStreamsClient
  readonly endpoint: string
  /** Runs one SDK call; its failure becomes a `DynamoDbError` (the exception's name stays in `cause`). */
  readonly call: <A>(operation: string, f: (client: DynamoDBStreamsClient) => Promise<A>) => Effect.Effect<A, DynamoDbError>
}>()("dyna-elite/aws/DynamoDbStreams") {
  /** A service over a client someone else built and owns. */
  static readonly fromClient = (client: DynamoDBStreamsClient, endpoint: string) =>
    DynamoDbStreams.of({
      client,
      endpoint,
      call: AwsCall.caller(client, (operation, cause) => new DynamoDbError({ operation, kind: kindOf(cause), endpoint, cause }))
    })

  /**
   * `AWS_ENDPOINT_URL_DYNAMODB_STREAMS`, else `AWS_ENDPOINT_URL_DYNAMODB` (DynamoDB Local serves both
   * APIs on one port), and `AWS_REGION`. One attempt per call, placeholder credentials on a loopback
   * endpoint without configured keys: as `DynamoDb.layer`.
   */
  static readonly layer = Layer.effect(
    DynamoDbStreams,
    Effect.gen(function*() {
      const config = yield* Config.all({
        endpoint: Config.option(
          Config.String("AWS_ENDPOINT_URL_DYNAMODB_STREAMS").pipe(Config.orElse(() => Config.String("AWS_ENDPOINT_URL_DYNAMODB")))
        ),
        region: AwsCall.region,
        accessKeyId: Config.option(Config.String("AWS_ACCESS_KEY_ID"))
      })
      const endpoint = Option.getOrUndefined(config.endpoint)
      const placeholders = endpoint !== undefined && isLoopback(endpoint) && Option.isNone(config.accessKeyId)
      const client = yield* AwsCall.acquire(() =>
        new DynamoDBStreamsClient({
          region: config.region,
          maxAttempts: 1,
          requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
          ...(endpoint === undefined ? {} : { endpoint }),
          ...(placeholders ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {})
        })
      )
      return DynamoDbStreams.fromClient(client, endpoint ?? `streams.dynamodb.${config.region}.amazonaws.com`)
    })
  )
}
