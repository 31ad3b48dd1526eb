/**
 * The local target's provisioning: DynamoDB Local running, the same table and stream steps as on AWS,
 * then the function "published" where the runner loads it and the runner started on the stream.
 */
import * as Effect from "effect/Effect"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { isDeepStrictEqual } from "node:util"
import * as Deployment from "@dyna/aws/Deployment"
import { type DynamoDb, DynamoDbError, isLoopback } from "@dyna/aws/DynamoDb"
import { isListening, startInBackground } from "../local/DynamoDbLocal.js"
import { LocalStackError } from "../local/LocalStackError.js"
import * as Background from "../local/Background.js"
import * as LocalConfig from "../local/LocalConfig.js"
import * as RunnerProcess from "../local/RunnerProcess.js"
import { Tables } from "@dyna/aws/Tables"
import * as Home from "../local/Home.js"
import * as OwnedTables from "../local/OwnedTables.js"
import * as Bundle from "./Bundle.js"
import { applied, change, type Change, noChange, type Outcome, type Step } from "./Step.js"
import * as TableSteps from "./TableSteps.js"
import { describeTable, MissingTable } from "@dyna/aws/TableDescription"

/** Reuses whatever DynamoDB listens at the endpoint; starts ours in the background when nothing does. */
export const decideDynamoDbLocal = Effect.gen(function*() {
  const { endpoint, dataDir, pidFile } = yield* LocalConfig.settings
  const url = yield* Effect.try({
    try: () => new URL(endpoint),
    catch: () => new LocalStackError({ message: `AWS_ENDPOINT_URL_DYNAMODB is not a URL: ${endpoint}` })
  })
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80))
  if (yield* isListening(url.hostname.replace(/^\[|\]$/g, ""), port)) {
    return noChange({ action: "unchanged", resource: endpoint, detail: "already listening" })
  }
  if (!isLoopback(endpoint)) {
    return yield* new LocalStackError({ message: `nothing answers at ${endpoint}, and it is not on this machine to start` })
  }
  return change({ action: "started", resource: endpoint, detail: `data in ${dataDir}` }, Effect.gen(function*() {
    const pid = yield* startInBackground({ port, dataDir, pidFile })
    return { action: "started", resource: endpoint, detail: `pid ${pid}, data in ${dataDir}` } satisfies Outcome
  }))
})

/**
 * A decision that needs DynamoDB Local, made before it runs (a plan, or the first pass of a run that
 * starts it): the step will act once it runs, deciding again then.
 */
const onceRunning = <E, R, E2, R2>(
  resource: string,
  decide: Effect.Effect<Change<E2, R2>, E, R>
): Effect.Effect<Change<E | E2, R | R2>, E, R> =>
  decide.pipe(
    Effect.map((c): Change<E | E2, R | R2> => c),
    Effect.catchIf(
      (e): boolean => e instanceof DynamoDbError && e.kind === "Unreachable",
      () => Effect.succeed(change({ action: "created", resource, detail: "once DynamoDB Local runs" }, applied(decide)))
    )
  )

const readBytes = (file: string) => (existsSync(file) ? readFileSync(file) : undefined)

const differs = (file: string, bytes: Uint8Array) => {
  const before = readBytes(file)
  return before === undefined ? "created" as const : Buffer.compare(before, bytes) === 0 ? "unchanged" as const : "updated" as const
}

const write = (file: string, bytes: Uint8Array) => {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, bytes)
}

/** "Publishing" locally: the bundled handler, the very file that goes to AWS, where the runner loads it. */
export const decidePublish = (artifact: Effect.Effect<Bundle.Artifact, Bundle.BundleError>) =>
  Effect.gen(function*() {
    const { functionFile } = yield* LocalConfig.settings
    const built = yield* artifact
    const action = differs(functionFile, built.code)
    const outcome = { action, resource: functionFile, detail: `${(built.code.length / 1024).toFixed(0)} KB, zip sha256 ${built.sha256}` }
    return action === "unchanged" ? noChange(outcome) : change(outcome, Effect.sync(() => (write(functionFile, built.code), outcome)))
  })

/**
 * The local event source mapping: the runner, started on the table's current stream with the mapping's
 * settings and the published function. A runner already serving exactly that is left alone; one serving
 * anything else (a new function, a replaced stream, a new runner build) is restarted.
 */
export const decideRunner = (
  runnerBuild: Effect.Effect<Uint8Array, Bundle.BundleError>,
  settings: Deployment.MappingSettings = Deployment.mappingSettings
) =>
  Effect.gen(function*() {
    const { functionFile, runner, endpoint } = yield* LocalConfig.settings
    const tables = yield* Tables
    const stream = (yield* describeTable(tables.transactions))?.LatestStreamArn
    const script = yield* runnerBuild
    const pid = yield* Background.running(runner.pidFile)
    const mapping = (streamArn: string): RunnerProcess.Mapping => ({
      streamArn,
      settings,
      functionFile,
      functionSha256: Bundle.sha256Base64(readBytes(functionFile) ?? new Uint8Array()),
      environment: Deployment.functionEnvironment(tables),
      checkpointFile: runner.checkpointFile,
      onFailureFile: runner.onFailureFile,
      statusFile: runner.statusFile
    })
    if (stream !== undefined && pid !== undefined && differs(runner.script, script) === "unchanged" &&
      isDeepStrictEqual(RunnerProcess.readMapping(runner.mappingFile), mapping(stream))) {
      return noChange({ action: "unchanged", resource: stream, detail: `runner pid ${pid}` })
    }
    const action = pid === undefined ? "started" as const : "updated" as const
    return change({ action, resource: stream ?? `the stream of ${tables.transactions}`, detail: "INSERTs only" }, Effect.gen(function*() {
      // The function step ran in between: decide on the stream and the function as they are now.
      const now = (yield* describeTable(tables.transactions))?.LatestStreamArn
      if (now === undefined) return yield* new MissingTable({ table: `${tables.transactions} (with a stream)` })
      if (differs(runner.script, script) !== "unchanged") write(runner.script, script)
      if (pid !== undefined) yield* Background.stop(runner.pidFile)
      const started = yield* RunnerProcess.start(runner, mapping(now), { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: endpoint })
      return {
        action,
        resource: now,
        detail: `runner pid ${started}, INSERTs only, batches of ${settings.batchSize}, ${settings.parallelizationFactor} at a time per shard, logs in ${runner.logFile}`
      } satisfies Outcome
    }))
  })

export type LocalStepError = LocalStackError | DynamoDbError | Bundle.BundleError | MissingTable | Home.HomeError

/**
 * `DYNA_HOME`, marked as the local stack's before anything is written in it, so teardown and
 * `local:stop` later delete only inside a folder the project made; a folder holding anything else
 * (`DYNA_HOME=$HOME`) is refused.
 */
const decideHome = (home: string) =>
  Effect.suspend(() => {
    const standing = Home.check(home)
    if (standing === "ours") return Effect.succeed(noChange<Home.HomeError, never>({ action: "unchanged", resource: home }))
    if (standing === "foreign") return Effect.flatMap(Home.claim(home), () => Effect.succeed(noChange<Home.HomeError, never>({ action: "unchanged", resource: home })))
    return Effect.succeed(change(
      { action: "created", resource: home, detail: "marked as the local stack's" },
      Home.claim(home).pipe(Effect.as<Outcome>({ action: "created", resource: home, detail: "marked as the local stack's" }))
    ))
  })

/** What `pnpm provision` may change of the local mapping (`--parallelization`); the deployment's settings when absent. */
export interface LocalOptions {
  readonly parallelizationFactor?: number | undefined
}

/** Every step of `pnpm provision` on the local target, in order, with `options` for the mapping. */
export const localStepsWith = (
  options: LocalOptions
): Effect.Effect<ReadonlyArray<Step<LocalStepError, DynamoDb | Tables>>, never, Tables> => Effect.gen(function*() {
  const tables = yield* Tables
  const { home } = yield* LocalConfig.settings
  const owned = OwnedTables.ownership(home, LOCAL_OWNER)
  const artifact = yield* Effect.cached(Bundle.make)
  const runnerBuild = yield* Effect.cached(Bundle.runner)
  const table = (definition: TableSteps.TableDefinition) => onceRunning(definition.name, TableSteps.decideTable(definition, owned))
  return [
    { title: `DYNA_HOME ${home}`, decide: decideHome(home) },
    { title: "DynamoDB Local", decide: decideDynamoDbLocal },
    { title: `table ${tables.transactions}`, decide: table(TableSteps.transactionsTable(tables.transactions)) },
    { title: `stream on ${tables.transactions}`, decide: onceRunning(tables.transactions, TableSteps.decideStream(tables.transactions, owned)) },
    { title: `table ${tables.profiles}`, decide: table(TableSteps.profilesTable(tables.profiles)) },
    { title: `table ${tables.rejected} (quarantine)`, decide: table(TableSteps.rejectedTable(tables.rejected)) },
    { title: `table ${tables.events} (EliteQualified events)`, decide: table(TableSteps.eventsTable(tables.events)) },
    { title: "function (bundled)", decide: decidePublish(artifact) },
    { title: `stream mapping ${tables.transactions} → local runner`, decide: onceRunning("local runner", decideRunner(runnerBuild, { ...Deployment.mappingSettings, parallelizationFactor: options.parallelizationFactor ?? Deployment.mappingSettings.parallelizationFactor })) }
  ]
})

/** Every step of `pnpm provision` on the local target, in order, with the deployment's mapping settings. */
export const localSteps = localStepsWith({})

/** The local stack's owner tag: DynamoDB Local keeps none, so ownership is `OwnedTables`' list. */
export const LOCAL_OWNER: Deployment.OwnerTag = Deployment.ownerTag("", "local")
