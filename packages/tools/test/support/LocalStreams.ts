/**
 * The DynamoDB Streams service on the test project's DynamoDB Local, for the runner and the operations
 * that read the stream; only the DynamoDB endpoint is set, as DynamoDB Local serves both.
 */
import * as Environment from "@dyna/aws/Environment"
import * as Layer from "effect/Layer"
import { DynamoDbStreams } from "../../src/clients/DynamoDbStreams.js"
import { endpoint } from "../../../aws/test/support/DynamoLocal.js"

export const streamsLayer = () =>
  DynamoDbStreams.layer.pipe(
    Layer.provide(Environment.layer({ AWS_ENDPOINT_URL_DYNAMODB: endpoint() }))
  )
