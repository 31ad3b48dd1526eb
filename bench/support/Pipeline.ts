/**
 * The local stack's pipeline in this process: the runner (`Runner.run`, the deployment's mapping
 * settings unless told otherwise, its poll interval, checkpoint and on-failure files in a temporary directory) invoking the
 * real handler (`Handler.make` over the function's own layers, logging off) on fresh tables. The same
 * composition `pnpm provision` starts, minus the runner's process and the bundle.
 */
import * as Deployment from "@dyna/aws/Deployment"
import { DynamoDbStreams } from "@dyna/tools/clients/DynamoDbStreams"
import * as Handler from "@dyna/aws/Handler"
import * as Runner from "@dyna/tools/local/Runner"
import * as RunnerProgress from "@dyna/tools/local/RunnerProgress"
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda"
import * as Cause from "effect/Cause"
import * as Environment from "@dyna/aws/Environment"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as LocalTables from "./LocalTables.js"

export interface Pipeline {
  /** Records the handler has counted so far (handed to it and not reported back as failed). */
  readonly handled: () => number
  /** Resolves with `performance.now()` at the moment `handled()` reached `count`; rejects after `timeoutMillis` or if the runner stops. */
  readonly handledReach: (count: number, timeoutMillis: number) => Promise<number>
  /** The runner's own progress. */
  readonly progress: () => RunnerProgress.Progress
  /** Resolves once the runner reads every shard of the stream and has caught up with it. */
  readonly ready: (timeoutMillis: number) => Promise<void>
  /** Stops the runner, releases the handler and removes the temporary files. */
  readonly stop: () => Promise<void>
}

export interface Options {
  /** Called after each invocation with its event and when it began and ended (`performance.now()`). */
  readonly onInvoke?: (event: DynamoDBStreamEvent, startedAt: number, endedAt: number) => void
  /** The mapping's settings; the deployment's (`Deployment.mappingSettings`) when absent. */
  readonly settings?: Deployment.MappingSettings
  /** The function the runner invokes, and how to release it; Dyna Elite's real handler on `names` when absent. */
  readonly function?: {
    readonly handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>
    readonly dispose: () => Promise<void>
  }
}

/** Starts the runner and the handler on `names`, whose stream is `streamArn`. */
export const start = (endpoint: string, names: Deployment.TableNames, streamArn: string, options: Options = {}): Pipeline => {
  const dir = mkdtempSync(join(tmpdir(), "dyna-bench-runner-"))
  const live = options.function ?? Handler.make(LocalTables.appLayer(endpoint, names))
  let handled = 0
  const waiters: Array<{ readonly count: number; readonly resolve: (at: number) => void }> = []
  const invoke = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const startedAt = performance.now()
    const response = await live.handler(event)
    const at = performance.now()
    options.onInvoke?.(event, startedAt, at)
    handled += event.Records.length - response.batchItemFailures.length
    for (const w of waiters.filter((w) => handled >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(at)
    }
    return response
  }

  const progress = Effect.runSync(RunnerProgress.make)
  const streams = DynamoDbStreams.layer.pipe(
    Layer.provide(Environment.layer({ AWS_ENDPOINT_URL_DYNAMODB: endpoint }))
  )
  const fiber = Effect.runFork(
    Runner.run({
      streamArn,
      settings: options.settings ?? Deployment.mappingSettings,
      invoke,
      checkpointFile: join(dir, "checkpoints.json"),
      onFailureFile: join(dir, "on-failure.jsonl"),
      progress
    }).pipe(Effect.provide(Layer.mergeAll(streams, Logger.layer([]))))
  )
  let stopped: string | undefined
  fiber.addObserver((exit) => {
    stopped = Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause) ? Cause.pretty(exit.cause) : "stopped"
  })

  const current = () => Effect.runSync(SubscriptionRef.get(progress))
  const waitFor = async (what: string, holds: () => boolean, timeoutMillis: number) => {
    const deadline = performance.now() + timeoutMillis
    while (!holds()) {
      if (stopped !== undefined) throw new Error(`the runner stopped: ${stopped}`)
      if (performance.now() > deadline) throw new Error(`${what} within ${timeoutMillis} ms`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  return {
    handled: () => handled,
    handledReach: (count, timeoutMillis) =>
      new Promise<number>((resolve, reject) => {
        if (handled >= count) return resolve(performance.now())
        waiters.push({ count, resolve })
        waitFor(`the handler did not count ${count} records (counted ${handled})`, () => handled >= count, timeoutMillis).catch(reject)
      }),
    progress: current,
    ready: (timeoutMillis) =>
      waitFor("the runner did not catch up with the stream", () => {
        const shards = Object.values(current().shards)
        return shards.length > 0 && shards.every((s) => s.caughtUp)
      }, timeoutMillis),
    stop: async () => {
      await Effect.runPromise(Fiber.interrupt(fiber))
      await live.dispose()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
