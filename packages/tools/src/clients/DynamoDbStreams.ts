/**
 * The DynamoDB Streams client as a service, configured like `DynamoDb`'s: its failures are the same
 * `DynamoDbError`s, classified by `DynamoDb.errorOf`. The local runner reads the stream through it.
 */
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as AwsCall from "@dyna/aws/AwsCall"
import { clientConfig, type DynamoDbError, errorOf, noteInput, noteInputOptions } from "@dyna/aws/DynamoDb"
import * as Environment from "@dyna/aws/Environment"

/** Reads DynamoDB streams: `DescribeStream`, `GetShardIterator`, `GetRecords`. */
export class DynamoDbStreams extends Context.Service<DynamoDbStreams, {
  readonly client: DynamoDBStreamsClient
  readonly endpoint: string
  /** Runs one SDK call; its failure becomes a `DynamoDbError` (the exception's name stays in `cause`). */
  readonly call: <A>(operation: string, f: (client: DynamoDBStreamsClient) => Promise<A>) => Effect.Effect<A, DynamoDbError>
}>()("dyna-elite/aws/DynamoDbStreams") {
  /** A service over a client someone else built and owns. */
  static readonly fromClient = (client: DynamoDBStreamsClient, endpoint: string) => {
    client.middlewareStack.add((next) => (args) => next(args).catch(noteInput(args.input)), noteInputOptions)
    return DynamoDbStreams.of({ client, endpoint, call: AwsCall.caller(client, (operation, cause) => errorOf(operation, cause, endpoint)) })
  }

  /**
   * `AWS_ENDPOINT_URL_DYNAMODB_STREAMS`, else `AWS_ENDPOINT_URL_DYNAMODB` (DynamoDB Local serves both
   * APIs on one port), and `AWS_REGION`. One attempt per call, placeholder credentials on a loopback
   * endpoint without configured keys: as `DynamoDb.layer`.
   */
  static readonly layer = Layer.effect(
    DynamoDbStreams,
    Effect.gen(function*() {
      const { endpoint, region, options } = yield* clientConfig(
        (yield* Environment.optional("AWS_ENDPOINT_URL_DYNAMODB_STREAMS")) ?? (yield* Environment.optional("AWS_ENDPOINT_URL_DYNAMODB"))
      )
      const client = yield* AwsCall.acquire(() => new DynamoDBStreamsClient(options))
      return DynamoDbStreams.fromClient(client, endpoint ?? `streams.dynamodb.${region}.amazonaws.com`)
    })
  )
}
