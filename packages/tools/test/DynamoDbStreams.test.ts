import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { assert, describe, it } from "vitest"
import { DynamoDbStreams } from "../src/clients/DynamoDbStreams.js"

/** The endpoint and credentials the layer's client was configured with, under `config`. */
const configured = (config: Record<string, string>) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const streams = yield* DynamoDbStreams
    const credentials = yield* Effect.promise(() => streams.client.config.credentials())
    return { endpoint: streams.endpoint, accessKeyId: credentials.accessKeyId }
  }).pipe(Effect.provide(DynamoDbStreams.layer.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(config))))))))

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
