/**
 * The local runner's process, `node runner.mjs <mapping.json>` (provisioning bundles this file): loads
 * the published function, serves the mapping until SIGTERM, and keeps its status file current, which
 * is also how provisioning learns that it started.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { pathToFileURL } from "node:url"
import { DynamoDbStreams } from "../clients/DynamoDbStreams.js"
import * as Logging from "@dyna/aws/Logging"
import * as AtomicFile from "./AtomicFile.js"
import * as Runner from "./Runner.js"
import * as RunnerProgress from "./RunnerProgress.js"
import * as RunnerProcess from "./RunnerProcess.js"

type Handler = (event: DynamoDBStreamEvent, context: object) => Promise<DynamoDBBatchResponse | void>

const isHandler = (u: unknown): u is Handler => typeof u === "function"

const serve = (mapping: RunnerProcess.Mapping, handler: Handler) =>
  Effect.gen(function*() {
    const progress = yield* RunnerProgress.make
    const startedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
    const report = Effect.gen(function*() {
      const p = yield* SubscriptionRef.get(progress)
      const status: RunnerProcess.Status = {
        pid: process.pid,
        startedAt,
        updatedAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
        streamArn: mapping.streamArn,
        batches: p.batches,
        records: p.records,
        onFailure: p.onFailure
      }
      yield* Effect.sync(() => AtomicFile.write(mapping.statusFile, `${JSON.stringify(status)}\n`))
    })
    yield* Effect.logInfo("runner started").pipe(Effect.annotateLogs({ functionFile: mapping.functionFile, pid: process.pid }))
    yield* Effect.forkChild(Effect.repeat(report, Schedule.spaced("1 second")))
    return yield* Runner.run({
      streamArn: mapping.streamArn,
      settings: mapping.settings,
      invoke: (event) => handler(event, {}),
      checkpointFile: mapping.checkpointFile,
      onFailureFile: mapping.onFailureFile,
      progress
    })
  })

const main = async () => {
  const mappingFile = process.argv[2] ?? ""
  const mapping = RunnerProcess.readMapping(mappingFile)
  if (mapping === undefined) {
    console.error(`runner: cannot read a mapping from ${JSON.stringify(mappingFile)}`)
    return 1
  }
  const module: { readonly handler?: unknown } = await import(pathToFileURL(mapping.functionFile).href)
  if (!isHandler(module.handler)) {
    console.error(`runner: ${mapping.functionFile} exports no handler function`)
    return 1
  }
  const stop = new AbortController()
  process.once("SIGTERM", () => stop.abort())
  process.once("SIGINT", () => stop.abort())
  const exit = await Effect.runPromiseExit(
    serve(mapping, module.handler).pipe(Effect.provide(Layer.mergeAll(DynamoDbStreams.layer, Logging.layer))),
    { signal: stop.signal }
  )
  if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) {
    console.error(`runner: stopped on an error: ${Cause.pretty(exit.cause)}`)
    return 1
  }
  return 0
}

process.exit(await main())
