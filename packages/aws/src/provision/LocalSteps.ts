/**
 * The local target's provisioning: DynamoDB Local running, the same table and stream steps as on AWS,
 * then the function "published" where the runner loads it and the runner started on the stream.
 */
import type { ConfigError } from "effect/Config"
import * as Effect from "effect/Effect"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { isDeepStrictEqual } from "node:util"
import * as Deployment from "../Deployment.js"
import { type DynamoDb, type DynamoDbError, isLoopback } from "../DynamoDb.js"
import { isListening, LocalStackError, startInBackground } from "../local/DynamoDbLocal.js"
import * as Background from "../local/Background.js"
import * as LocalConfig from "../local/LocalConfig.js"
import * as RunnerProcess from "../local/RunnerProcess.js"
import { Tables } from "../Tables.js"
import * as Bundle from "./Bundle.js"
import type { Outcome, Step } from "./Step.js"
import { describeTable, ensureStream, ensureTable, eventsTable, MissingTable, profilesTable, rejectedTable, transactionsTable } from "./TableSteps.js"

/** Reuses whatever DynamoDB listens at the endpoint; starts ours in the background when nothing does. */
export const ensureDynamoDbLocal = Effect.gen(function*() {
  const { endpoint, dataDir, pidFile } = yield* LocalConfig.settings
  const url = yield* Effect.try({
    try: () => new URL(endpoint),
    catch: () => new LocalStackError({ message: `AWS_ENDPOINT_URL_DYNAMODB is not a URL: ${endpoint}` })
  })
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80))
  if (yield* isListening(url.hostname.replace(/^\[|\]$/g, ""), port)) {
    return { action: "unchanged", resource: endpoint, detail: "already listening" } satisfies Outcome
  }
  if (!isLoopback(endpoint)) {
    return yield* new LocalStackError({ message: `nothing answers at ${endpoint}, and it is not on this machine to start` })
  }
  const pid = yield* startInBackground({ port, dataDir, pidFile })
  return { action: "started", resource: endpoint, detail: `pid ${pid}, data in ${dataDir}` } satisfies Outcome
})

const readBytes = (file: string) => (existsSync(file) ? readFileSync(file) : undefined)

/** Writes `bytes` to `file` unless it holds them already: `"created"`, `"updated"` or `"unchanged"`. */
const writeIfChanged = (file: string, bytes: Uint8Array) => {
  const before = readBytes(file)
  if (before !== undefined && Buffer.compare(before, bytes) === 0) return "unchanged" as const
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, bytes)
  return before === undefined ? "created" as const : "updated" as const
}

/** "Publishing" locally: the bundled handler, the very file that goes to AWS, where the runner loads it. */
export const publishFunction = Effect.gen(function*() {
  const { functionFile } = yield* LocalConfig.settings
  const artifact = yield* Bundle.make
  const action = writeIfChanged(functionFile, artifact.code)
  return {
    action,
    resource: functionFile,
    detail: `${(artifact.code.length / 1024).toFixed(0)} KB, zip sha256 ${artifact.sha256}`
  } satisfies Outcome
})

/**
 * The local event source mapping: the runner, started on the table's current stream with the mapping's
 * settings and the published function. A runner already serving exactly that is left alone; one serving
 * anything else (a new function, a replaced stream, a new runner build) is restarted.
 */
export const ensureRunner = Effect.gen(function*() {
  const { functionFile, runner, endpoint } = yield* LocalConfig.settings
  const tables = yield* Tables
  const stream = (yield* describeTable(tables.transactions))?.LatestStreamArn
  if (stream === undefined) return yield* new MissingTable({ table: `${tables.transactions} (with a stream)` })
  const mapping: RunnerProcess.Mapping = {
    streamArn: stream,
    settings: Deployment.mapping,
    functionFile,
    functionSha256: Bundle.sha256Base64(readBytes(functionFile) ?? new Uint8Array()),
    environment: Deployment.functionEnvironment(tables),
    checkpointFile: runner.checkpointFile,
    onFailureFile: runner.onFailureFile,
    statusFile: runner.statusFile
  }
  const script = writeIfChanged(runner.script, yield* Bundle.runner)
  const pid = yield* Background.running(runner.pidFile)
  const serving = RunnerProcess.readMapping(runner.mappingFile)
  if (pid !== undefined && script === "unchanged" && isDeepStrictEqual(serving, mapping)) {
    return { action: "unchanged", resource: stream, detail: `runner pid ${pid}` } satisfies Outcome
  }
  if (pid !== undefined) yield* Background.stop(runner.pidFile)
  const started = yield* RunnerProcess.start(runner, mapping, { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: endpoint })
  return {
    action: pid === undefined ? "started" : "updated",
    resource: stream,
    detail: `runner pid ${started}, INSERTs only, batches of ${Deployment.mapping.batchSize}, logs in ${runner.logFile}`
  } satisfies Outcome
})

/** Every step of `pnpm provision` on the local target, in order. */
export const localSteps: Effect.Effect<
  ReadonlyArray<Step<ConfigError | LocalStackError | DynamoDbError | Bundle.BundleError | MissingTable, DynamoDb | Tables>>,
  never,
  Tables
> = Effect.gen(function*() {
  const tables = yield* Tables
  return [
    { title: "DynamoDB Local", run: ensureDynamoDbLocal },
    { title: `table ${tables.transactions}`, run: ensureTable(transactionsTable(tables.transactions)) },
    { title: `stream on ${tables.transactions}`, run: ensureStream(tables.transactions) },
    { title: `table ${tables.profiles}`, run: ensureTable(profilesTable(tables.profiles)) },
    { title: `table ${tables.rejected} (quarantine)`, run: ensureTable(rejectedTable(tables.rejected)) },
    { title: `table ${tables.events} (EliteQualified events)`, run: ensureTable(eventsTable(tables.events)) },
    { title: "function (bundled)", run: publishFunction },
    { title: `stream mapping ${tables.transactions} → local runner`, run: ensureRunner }
  ]
})
