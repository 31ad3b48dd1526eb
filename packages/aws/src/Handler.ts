/**
 * The Lambda entry point: the runtime is built on first use and reused across invocations; the
 * handler itself only runs `Batch.handle`.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { AppLayer } from "./AppLayer.js"
import * as Batch from "./Batch.js"
import type { ProfileStore } from "./ProfileStore.js"
import type { Quarantine } from "./Quarantine.js"

/** Lambda's contract for a DynamoDB stream function with ReportBatchItemFailures: failed records' sequence numbers back. */
export type Handler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>

/** A handler over the given services, and the way to release them (tests run it on DynamoDB Local). */
export const make = <E>(layer: Layer.Layer<ProfileStore | Quarantine, E>) => {
  const runtime = ManagedRuntime.make(layer)
  const handler: Handler = (event) => runtime.runPromise(Batch.handle(event))
  return { handler, dispose: () => runtime.dispose() }
}

const live = make(AppLayer)

// Lambda sends SIGTERM before it shuts an environment down: close the client cleanly.
process.once("SIGTERM", () => void live.dispose())

/** The deployed entry (`index.handler`): the live services from the environment, built on the first event and reused. */
export const handler: Handler = live.handler
