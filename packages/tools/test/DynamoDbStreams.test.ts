/**
 * The DynamoDB Streams client as a service: the endpoint it takes from the configuration, and the
 * stream it names when a call is denied.
 */
import { DescribeStreamCommand, DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams"
import * as Environment from "@dyna/aws/Environment"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { assert, describe, it } from "vitest"
import { DynamoDbStreams } from "../src/clients/DynamoDbStreams.js"
import * as Recorder from "../../aws/test/support/Recorder.js"

/** The endpoint and credentials the layer's client was configured with, under `config`. */
const configured = (config: Record<string, string>) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const streams = yield* DynamoDbStreams
    const credentials = yield* Effect.promise(() => streams.client.config.credentials())
    return { endpoint: streams.endpoint, accessKeyId: credentials.accessKeyId }
  }).pipe(Effect.provide(DynamoDbStreams.layer.pipe(Layer.provide(Environment.layer(config)))))))

describe("DynamoDbStreams.layer", () => {
  it("uses DynamoDB's endpoint when no streams endpoint is set: DynamoDB Local serves both", async () => {
    assert.deepStrictEqual(await configured({ AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8000" }), {
      endpoint: "http://127.0.0.1:8000",
      accessKeyId: "local"
    })
  })

  it("prefers AWS_ENDPOINT_URL_DYNAMODB_STREAMS when it is set", async () => {
    const config = { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8000", AWS_ENDPOINT_URL_DYNAMODB_STREAMS: "http://localhost:8001" }
    assert.deepStrictEqual(await configured(config), { endpoint: "http://localhost:8001", accessKeyId: "local" })
  })
})

describe("DynamoDbStreams", () => {
  it("names the stream of a denied stream call", async () => {
    const streamArn = "arn:aws:dynamodb:eu-west-1:123456789012:table/CustTransactions/stream/2026-01-01T00:00:00.000"
    // What DynamoDB Streams answers a caller without permission for the action (HTTP 400, as the service does).
    const denied = Recorder.dynamoJson(400, {
      __type: "com.amazon.coral.service#AccessDeniedException",
      message: `User: arn:aws:sts::123456789012:assumed-role/Dev/me is not authorized to perform: dynamodb:DescribeStream on resource: ${streamArn}`
    })
    const streams = new DynamoDBStreamsClient({
      region: "eu-west-1",
      credentials: Recorder.credentials,
      requestHandler: Recorder.recorder(() => denied).handler
    })
    const stream = await Effect.runPromise(
      DynamoDbStreams.fromClient(streams, "aws").call("DescribeStream", (c) => c.send(new DescribeStreamCommand({ StreamArn: streamArn }))).pipe(
        Effect.flip
      )
    )
    assert.strictEqual(stream.kind, "AccessDenied")
    assert.include(stream.message, `DynamoDB DescribeStream on stream ${streamArn} was denied`)
  })
})
