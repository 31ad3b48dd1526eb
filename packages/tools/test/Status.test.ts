/**
 * `Status`: the local report on DynamoDB Local with fresh tables, a runner state folder of the test's own
 * (the real runner run in-process for its checkpoints; its pid and status files written with the real
 * schemas) and the screen it renders; then the AWS report on the pretend account of `FakeAws`.
 */
import { type AttributeValue, DescribeTableCommand, PutItemCommand, ScanCommand, type ScanCommandInput, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import { DescribeStreamCommand, DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams"
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock"
import * as Environment from "@dyna/aws/Environment"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { TestClock } from "effect/testing"
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as Metrics from "@dyna/aws/Metrics"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import { DynamoDbStreams } from "../src/clients/DynamoDbStreams.js"
import * as OnFailure from "../src/local/OnFailure.js"
import * as Runner from "../src/local/Runner.js"
import * as RunnerProgress from "../src/local/RunnerProgress.js"
import * as RunnerProcess from "../src/local/RunnerProcess.js"
import * as Status from "../src/ops/Status.js"
import * as StatusScreen from "../src/ops/StatusScreen.js"
import { ensureTable, profilesTable, transactionsTable } from "../src/provision/TableSteps.js"
import { Tables } from "@dyna/aws/Tables"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"
import type * as FakeAwsModule from "./support/FakeAws.js"

const dir = mkdtempSync(join(tmpdir(), "status-test-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let homes = 0
/** A DYNA_HOME no other test uses. */
const freshHome = () => {
  const home = join(dir, `home-${++homes}`)
  mkdirSync(join(home, "runner"), { recursive: true })
  return home
}
const runnerFile = (home: string, name: string) => join(home, "runner", name)

/** The live layers, configured as a local command is: the tables, DynamoDB Local, DYNA_HOME. */
const localLayer = (names: DynamoLocal.TableNames, home: string) =>
  Layer.mergeAll(DynamoDb.layer, DynamoDbStreams.layer, Tables.layer).pipe(
    Layer.provideMerge(Environment.layer({
      ...Deployment.tableEnvironment(names),
      AWS_ENDPOINT_URL_DYNAMODB: DynamoLocal.endpoint(),
      DYNA_HOME: home
    }))
  )

const gather = (names: DynamoLocal.TableNames, home: string) => Effect.runPromise(Status.local().pipe(Effect.provide(localLayer(names, home))))

/** The same, with the clock set to `at` (epoch milliseconds). */
const gatherAt = (names: DynamoLocal.TableNames, home: string, at: number) =>
  Effect.runPromise(
    TestClock.setTime(at).pipe(
      Effect.andThen(Status.local()),
      Effect.provide(Layer.mergeAll(localLayer(names, home), TestClock.layer()))
    )
  )

const streamArnOf = async (table: string) => {
  const out = await DynamoLocal.client().send(new DescribeTableCommand({ TableName: table }))
  const arn = out.Table?.LatestStreamArn
  if (arn === undefined) throw new Error(`${table} has no stream`)
  return arn
}

const put = (table: string, item: Record<string, AttributeValue>) => DynamoLocal.client().send(new PutItemCommand({ TableName: table, Item: item }))
const purchase = (names: DynamoLocal.TableNames, custId: string, tnNum: number, tnValue: number) =>
  put(names.transactions, { CustID: { S: custId }, TnNum: { N: String(tnNum) }, TnValue: { N: String(tnValue) } })

/** The mapping file provisioning writes, for the stream, with the files under `home`. */
const writeMapping = (home: string, streamArn: string) =>
  writeFileSync(
    runnerFile(home, "mapping.json"),
    Schema.encodeSync(Schema.fromJsonString(RunnerProcess.Mapping))({
      streamArn,
      settings: Deployment.mappingSettings,
      functionFile: join(home, "function", "index.mjs"),
      functionSha256: "none",
      environment: {},
      checkpointFile: runnerFile(home, "checkpoints.json"),
      onFailureFile: runnerFile(home, "on-failure.jsonl"),
      statusFile: runnerFile(home, "status.json")
    })
  )

/** The pid file and the status file a runner with pid `pid` keeps, last written at `updatedAt`. */
const writeRunner = (home: string, pid: number, streamArn: string, updatedAt: Date) => {
  writeFileSync(runnerFile(home, "runner.pid"), `${pid}\n`)
  writeFileSync(
    runnerFile(home, "status.json"),
    Schema.encodeSync(Schema.fromJsonString(RunnerProcess.Status))({
      pid,
      startedAt: new Date(updatedAt.getTime() - 60_000).toISOString(),
      updatedAt: updatedAt.toISOString(),
      streamArn,
      batches: 2,
      records: 3,
      onFailure: 0
    })
  )
}

/** A pid no process has any more. */
const deadPid = () => {
  const pid = spawnSync(process.execPath, ["-e", ""]).pid
  if (pid === undefined) throw new Error("cannot start a process")
  return pid
}

/** The real runner, in this process, on the stream until every shard is caught up; its checkpoints go under `home`. */
const runRunnerUntilCaughtUp = (home: string, streamArn: string) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const progress = yield* RunnerProgress.make
    const fiber = yield* Effect.forkScoped(Runner.run({
      streamArn,
      settings: Deployment.mappingSettings,
      invoke: async () => ({ batchItemFailures: [] }),
      checkpointFile: runnerFile(home, "checkpoints.json"),
      onFailureFile: runnerFile(home, "on-failure.jsonl"),
      progress,
      pollInterval: "20 millis"
    }))
    const caughtUp = (p: RunnerProgress.Progress) => Object.values(p.shards).length > 0 && Object.values(p.shards).every((s) => s.caughtUp)
    yield* Effect.raceFirst(SubscriptionRef.changes(progress).pipe(Stream.filter(caughtUp), Stream.runHead), Fiber.join(fiber)).pipe(
      Effect.timeout("20 seconds")
    )
    yield* Fiber.interrupt(fiber)
    return yield* SubscriptionRef.get(progress)
  })).pipe(Effect.provide(Layer.mergeAll(
    DynamoDbStreams.layer.pipe(Layer.provide(Environment.layer({ AWS_ENDPOINT_URL_DYNAMODB: DynamoLocal.endpoint() }))),
    Logger.layer([])
  ))))

const lines = (text: string) => text.split("\n")

describe("Status on the local stack", () => {
  let names: DynamoLocal.TableNames
  let streamArn: string
  let home: string

  beforeAll(async () => {
    names = await DynamoLocal.freshTables()
    streamArn = await streamArnOf(names.transactions)
    home = freshHome()
    await purchase(names, "st-1", 1, 500)
    await purchase(names, "st-1", 2, 600)
    await purchase(names, "st-2", 1, 100)
    // A MODIFY: the mapping's filter lets only INSERTs through, so it is never waited for.
    await DynamoLocal.client().send(new UpdateItemCommand({
      TableName: names.transactions,
      Key: { CustID: { S: "st-2" }, TnNum: { N: "1" } },
      UpdateExpression: "SET Note = :n",
      ExpressionAttributeValues: { ":n": { S: "gift" } }
    }))
    const profile = (custId: string, total: number | undefined, extra: Record<string, AttributeValue> = {}) =>
      put(names.profiles, { CustID: { S: custId }, ...(total === undefined ? {} : { TotalTnValue: { N: String(total) } }), ...extra })
    await profile("st-1", 1100)
    await profile("st-3", 1000)
    await profile("st-2", 999)
    // A Jam profile that says Elite but carries no total of ours: Elite is decided by TotalTnValue alone.
    await profile("jam-1", undefined, { CustStatus: { S: "Elite" } })
    for (const id of ["q-1", "q-2"]) await put(names.rejected, { RecordId: { S: id }, Reason: { S: "bad" } })
    await put(names.events, { CustID: { S: "st-1" }, ProfileVersion: { N: "2" } })
  })

  it("before the runner ever ran: every count, the INSERTs waiting on the stream, and the runner named as not running", async () => {
    const report = await gather(names, home)
    assert.strictEqual(report.target, "local")
    assert.strictEqual(report.endpoint, DynamoLocal.endpoint())
    assert.deepStrictEqual(report.tables.map((t) => [t.role, t.name, t.exists, t.itemCount, t.approximate]), [
      ["transactions", names.transactions, true, 3, false],
      ["profiles", names.profiles, true, 4, false],
      ["quarantine", names.rejected, true, 2, false],
      ["events", names.events, true, 1, false]
    ])
    assert.deepStrictEqual(report.stream, {
      table: names.transactions,
      enabled: true,
      viewType: "NEW_IMAGE",
      arn: streamArn,
      status: "ENABLED",
      shards: { open: 1, total: 1 },
      error: undefined
    })
    assert.deepStrictEqual(report.quarantined, { _tag: "Counted", count: 2 })
    assert.deepStrictEqual(report.elite, { _tag: "Counted", count: 2 })
    assert.deepStrictEqual(report.onFailure, { _tag: "Counted", records: 0, batches: 0, file: runnerFile(home, "on-failure.jsonl") })
    // No runner log yet: nothing handled.
    assert.deepStrictEqual(report.lastHour, {
      _tag: "Summed",
      totals: { batches: 0, applied: 0, duplicates: 0, quarantined: 0, promotions: 0, retried: 0 },
      file: join(home, "runner.log")
    })
    assert.deepInclude(report.mapping, { _tag: "LocalRunner", pid: undefined, status: undefined, streamArn: undefined })
    // Three INSERTs, none checkpointed; written just now, but DynamoDB Local stamps them to the minute.
    assert.deepInclude(report.lag, { _tag: "Measured", waiting: 3, capped: false, resolutionMillis: 60_000 })
    assert.isAtMost(report.lag._tag === "Measured" ? report.lag.oldestAgeMillis ?? -1 : -1, 70_000)
    assert.deepStrictEqual(report.attention, ["the local runner is not running, so nothing reads the stream — run `pnpm provision`"])
    assert.strictEqual(StatusScreen.summary(report), "ATTENTION: the local runner is not running, so nothing reads the stream — run `pnpm provision`.")
    const screen = lines(StatusScreen.render(report))
    assert.include(screen, "Mapping      local runner not running")
    assert.match(screen.find((l) => l.startsWith("Lag")) ?? "", /^Lag {10}up to \d+ (ms|s) \(3 records waiting; DynamoDB Local stamps records to the minute\)$/)
  })

  it("with the runner caught up and reporting: lag 0, the runner's counts, and an OK summary", async () => {
    writeMapping(home, streamArn)
    const progress = await runRunnerUntilCaughtUp(home, streamArn)
    assert.deepInclude(progress, { batches: 1, records: 3 })
    // This process stands in for the runner: alive, and its status written a moment ago.
    writeRunner(home, process.pid, streamArn, new Date())

    const report = await gather(names, home)
    assert.deepStrictEqual(report.lag, { _tag: "Measured", waiting: 0, capped: false, oldestAgeMillis: undefined, resolutionMillis: 60_000 })
    assert.deepInclude(report.mapping, { _tag: "LocalRunner", pid: process.pid, streamArn, stale: false })
    assert.deepStrictEqual(report.attention, [])
    assert.strictEqual(StatusScreen.summary(report), "OK: runner running, lag 0 ms, 2 Elite, 2 quarantined.")
    const screen = lines(StatusScreen.render(report))
    assert.strictEqual(screen[0], `Dyna Elite status — local (DynamoDB Local at ${DynamoLocal.endpoint()})`)
    assert.strictEqual(screen[1], `Tables       ${names.transactions} 3 · ${names.profiles} 4 · ${names.rejected} 2 · ${names.events} 1`)
    assert.strictEqual(screen[2], `Stream       ${names.transactions} NEW_IMAGE, ENABLED, 1 shard`)
    assert.match(screen[3] ?? "", new RegExp(`^Mapping {6}local runner pid ${process.pid}, running; 2 batches, 3 records delivered; status \\d+ m?s old$`))
    assert.strictEqual(screen[4], "Lag          0 ms (caught up)")
    assert.strictEqual(screen[5], "Last hour    no batches handled")
    assert.strictEqual(screen[6], "Quarantined  2 record(s)   On-failure 0 record(s)")
    assert.strictEqual(screen[7], "Elite        2 customer(s)")
    assert.strictEqual(screen.length, 8)
  })

  it("sums the last hour's EMF lines in the runner's log, by their Timestamp, passing over every other line", async () => {
    const logHome = freshHome()
    const now = Date.now()
    const values = (applied: number, duplicates: number, quarantined: number, promotions: number, retried: number): Metrics.Values => ({
      RecordsReceived: applied + duplicates + quarantined + retried,
      RecordsApplied: applied,
      DuplicatesSkipped: duplicates,
      Unguarded: 0,
      Quarantined: quarantined,
      Retried: retried,
      Promotions: promotions,
      RacesLost: 1,
      ProfileWrites: applied,
      WriteUnits: 3 * applied,
      BatchDuration: 12
    })
    const emf = (v: Metrics.Values, at: number) => JSON.stringify(Metrics.line(v, Deployment.DEFAULT_FUNCTION_NAME, at))
    const foreign = JSON.stringify({ ...Metrics.line(values(50, 0, 0, 0, 0), "other", now), _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: "Other", Dimensions: [], Metrics: [] }] } })
    writeFileSync(join(logHome, "runner.log"), [
      '{"message":"runner started","level":"INFO","timestamp":"2026-01-01T00:00:00.000Z"}',
      emf(values(100, 100, 100, 100, 100), now - 2 * 3_600_000),
      emf(values(3, 1, 1, 1, 0), now - 10 * 60_000),
      '{"message":"batch processed","level":"INFO","annotations":{"applied":3}}',
      foreign,
      "runner: stopped on an error: boom",
      emf(values(2, 0, 0, 0, 4), now - 60_000),
      emf(values(1, 0, 0, 0, 0), now - 1_000).slice(0, 80)
    ].join("\n"))
    const report = await gather(names, logHome)
    assert.deepStrictEqual(report.lastHour, {
      _tag: "Summed",
      totals: { batches: 2, applied: 5, duplicates: 1, quarantined: 1, promotions: 1, retried: 4 },
      file: join(logHome, "runner.log")
    })
    assert.include(lines(StatusScreen.render(report)), "Last hour    5 applied, 1 duplicate, 1 quarantined, 1 promotion, 4 retried in 2 batches")
    assert.deepStrictEqual(Status.lastHourTotals([emf(values(1, 0, 0, 0, 0), now - 3_600_000)], now).batches, 0)
  })

  it("counts the records the runner gave up on, from its on-failure file", async () => {
    const onFailureHome = freshHome()
    writeMapping(onFailureHome, streamArn)
    await Effect.runPromise(OnFailure.append(runnerFile(onFailureHome, "on-failure.jsonl"), {
      requestContext: { requestId: "r-1", condition: "RetryAttemptsExhausted", approximateInvokeCount: 11 },
      version: "1.0",
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: { shardId: "s-1", startSequenceNumber: "1", endSequenceNumber: "2", batchSize: 2, streamArn },
      payload: { Records: [{}, {}] }
    }))
    const report = await gather(names, onFailureHome)
    assert.deepInclude(report.onFailure, { _tag: "Counted", records: 2, batches: 1 })
    assert.include(StatusScreen.render(report), `On-failure 2 record(s) in 1 batch (${runnerFile(onFailureHome, "on-failure.jsonl")})`)
  })

  it("a runner that stopped reporting, and records that have waited minutes, need attention", async () => {
    await purchase(names, "st-4", 1, 10)
    writeRunner(home, process.pid, streamArn, new Date())
    const report = await gatherAt(names, home, Date.now() + 3 * 60_000)
    assert.deepInclude(report.lag, { _tag: "Measured", waiting: 1 })
    assert.isAtLeast(report.lag._tag === "Measured" ? report.lag.oldestAgeMillis ?? 0 : 0, 3 * 60_000)
    assert.deepInclude(report.mapping, { pid: process.pid, stale: true })
    assert.deepStrictEqual(report.attention.map((a) => a.replace(/\d+ min/, "N min")), [
      `the local runner (pid ${process.pid}) has not reported for N min — see \`pnpm local:logs\``,
      "records have waited over N min on the stream — see `pnpm local:logs`"
    ])
    assert.match(StatusScreen.summary(report), /^ATTENTION: the local runner \(pid \d+\) has not reported for 3 min/)
    assert.include(StatusScreen.render(report), `Mapping      local runner pid ${process.pid}, not reporting;`)
  })

  it("a runner whose process is gone shows its last report and is not running", async () => {
    writeRunner(home, deadPid(), streamArn, new Date(Date.now() - 42_000))
    const report = await gather(names, home)
    assert.deepInclude(report.mapping, { pid: undefined })
    assert.include(report.attention, "the local runner is not running, so nothing reads the stream — run `pnpm provision`")
    assert.include(lines(StatusScreen.render(report)), "Mapping      local runner not running (last report 42 s ago: 2 batches, 3 records delivered)")
  })

  it("a runner reading a replaced stream needs attention", async () => {
    writeMapping(home, `${streamArn}-old`)
    writeRunner(home, process.pid, `${streamArn}-old`, new Date())
    const report = await gather(names, home)
    assert.deepStrictEqual(report.attention, [`the local runner reads a replaced stream (${streamArn}-old) — run \`pnpm provision\``])
  })
})

describe("Status on an unfinished local stack", () => {
  it("missing tables, a table without a stream and no runner state: each shown as such, never a crash", async () => {
    const names = await DynamoLocal.freshTables()
    const bare = { ...names, transactions: `${names.transactions}-nostream`, rejected: `${names.rejected}-never`, events: `${names.events}-never` }
    await Effect.runPromise(ensureTable(transactionsTable(bare.transactions)).pipe(Effect.provide(localLayer(bare, freshHome()))))
    await Effect.runPromise(ensureTable(profilesTable(bare.profiles)).pipe(Effect.provide(localLayer(bare, freshHome()))))

    const report = await gather(bare, freshHome())
    assert.deepStrictEqual(report.tables.map((t) => t.exists), [true, true, false, false])
    assert.deepInclude(report.stream, { enabled: false, arn: undefined })
    assert.deepStrictEqual(report.lag, { _tag: "Unavailable", reason: "no stream to measure" })
    assert.deepStrictEqual(report.quarantined, { _tag: "Unavailable", reason: `no table ${bare.rejected}` })
    assert.deepStrictEqual(report.elite, { _tag: "Counted", count: 0 })
    assert.deepStrictEqual(report.attention, [
      `table ${bare.rejected} does not exist — run \`pnpm provision\``,
      `table ${bare.events} does not exist — run \`pnpm provision\``,
      `${bare.transactions} has no stream — run \`pnpm provision\``,
      "the local runner is not running, so nothing reads the stream — run `pnpm provision`"
    ])
    const screen = lines(StatusScreen.render(report))
    assert.include(screen, `Tables       ${bare.transactions} 0 · ${bare.profiles} 0 · ${bare.rejected} missing · ${bare.events} missing`)
    assert.include(screen, `Stream       ${bare.transactions}: no stream`)
    assert.include(screen, "Lag          no stream to measure")
    assert.include(screen, `Quarantined  unknown (no table ${bare.rejected})   On-failure 0 record(s)`)
    assert.include(screen, `Attention    table ${bare.rejected} does not exist — run \`pnpm provision\``)
  })

  it("DynamoDB not answering fails the whole status with the hint to provision", async () => {
    const names = await DynamoLocal.freshTables()
    const layer = Layer.mergeAll(DynamoDb.layer, DynamoDbStreams.layer, Tables.layer).pipe(
      Layer.provideMerge(Environment.layer({ ...Deployment.tableEnvironment(names), AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:1", DYNA_HOME: freshHome() }))
    )
    const error = await Effect.runPromise(Effect.flip(Status.local().pipe(Effect.provide(layer))))
    assert.match(error.message, /^DynamoDB is not reachable at http:\/\/127\.0\.0\.1:1 .*run `pnpm provision`$/)
  })
})

// The AWS part mocks the SDK clients' classes, so it is loaded only once the local tests above are done.
describe("Status on AWS", () => {
  let FakeAws: typeof FakeAwsModule
  let streams: AwsClientStub<DynamoDBStreamsClient>
  const names = Deployment.names()
  const fn = names.functionName

  beforeAll(async () => {
    FakeAws = await import("./support/FakeAws.js")
    streams = mockClient(DynamoDBStreamsClient)
  })
  afterAll(() => {
    for (const mock of [FakeAws.dynamo, FakeAws.lambda, FakeAws.iam, streams]) mock.restore()
  })

  const ourFunction = (): FakeAwsModule.FunctionSeed => ({
    name: fn,
    runtime: "nodejs24.x",
    handler: "index.handler",
    role: FakeAws.roleArn("DynaEliteFunctionRole"),
    codeSha256: "c29tZQ==",
    memorySize: 256,
    timeout: 30
  })

  /** Each table's items, served by Scan one per page (so a reader must follow LastEvaluatedKey). */
  const serveScans = (items: Readonly<Record<string, ReadonlyArray<Record<string, AttributeValue>>>>) =>
    FakeAws.dynamo.on(ScanCommand).callsFake(async (input: ScanCommandInput) => {
      const all = items[input.TableName ?? ""] ?? []
      const at = Number(input.ExclusiveStartKey?.["i"]?.N ?? "0")
      return { Items: all.slice(at, at + 1), ...(at + 1 < all.length ? { LastEvaluatedKey: { i: { N: String(at + 1) } } } : {}) }
    })

  /** Our tables and function; the stream has one open and one closed shard. */
  const deployed = () => {
    const fake = FakeAws.account({
      tables: [
        { name: names.transactions, stream: "NEW_IMAGE" },
        { name: names.profiles },
        { name: names.rejected },
        { name: names.events }
      ],
      functions: [ourFunction()]
    })
    const table = fake.tables.get(names.transactions)
    if (table !== undefined) fake.tables.set(names.transactions, { ...table, ItemCount: 4012 })
    serveScans({
      [names.profiles]: [{ CustID: { S: "a" } }, { CustID: { S: "b" } }],
      [names.rejected]: [{ RecordId: { S: "r" } }]
    })
    streams.reset()
    streams.on(DescribeStreamCommand).resolves({
      StreamDescription: {
        StreamStatus: "ENABLED",
        StreamViewType: "NEW_IMAGE",
        Shards: [
          { ShardId: "shard-1", SequenceNumberRange: { StartingSequenceNumber: "1", EndingSequenceNumber: "9" } },
          { ShardId: "shard-2", ParentShardId: "shard-1", SequenceNumberRange: { StartingSequenceNumber: "10" } }
        ]
      }
    })
    return fake
  }

  const mapping = (fake: ReturnType<typeof deployed>, uuid: string, fields: { state: string; reason?: string; result?: string; stream?: string }) =>
    fake.mappings.set(uuid, {
      UUID: uuid,
      EventSourceArn: fields.stream ?? FakeAws.streamOf(fake, names.transactions),
      FunctionArn: FakeAws.functionArn(fn),
      BatchSize: 100,
      State: fields.state,
      ...(fields.reason === undefined ? {} : { StateTransitionReason: fields.reason }),
      ...(fields.result === undefined ? {} : { LastProcessingResult: fields.result }),
      polls: 0
    })

  const gatherAws = () =>
    Effect.runPromise(Status.aws(fn).pipe(Effect.provide(
      Layer.mergeAll(
        FakeAws.services,
        Layer.succeed(
          DynamoDbStreams,
          DynamoDbStreams.fromClient(
            new DynamoDBStreamsClient({ region: FakeAws.REGION, credentials: { accessKeyId: "AKIAFAKE", secretAccessKey: "fake" } }),
            `https://streams.dynamodb.${FakeAws.REGION}.amazonaws.com`
          )
        ),
        Tables.layer
      ).pipe(Layer.provideMerge(Environment.layer({ AWS_REGION: FakeAws.REGION })))
    )))

  it("an Enabled mapping: approximate counts, the account, no lag invented, an OK summary", async () => {
    const fake = deployed()
    mapping(fake, "m-1", { state: "Enabled", reason: "User action", result: "OK" })
    const report = await gatherAws()
    assert.deepInclude(report, { target: "aws", region: FakeAws.REGION, account: FakeAws.ACCOUNT })
    assert.deepInclude(report.tables[0], { name: names.transactions, itemCount: 4012, approximate: true })
    assert.deepInclude(report.stream, { status: "ENABLED", shards: { open: 1, total: 2 } })
    assert.deepStrictEqual(report.quarantined, { _tag: "Counted", count: 1 })
    assert.deepStrictEqual(report.elite, { _tag: "Counted", count: 2 })
    assert.strictEqual(report.lag._tag, "Unavailable")
    assert.deepStrictEqual(report.onFailure, { _tag: "NoDestination" })
    assert.deepStrictEqual(report.attention, [])
    // The Elite count is DynamoDB's filter at the threshold, over a projection of the key alone.
    const profileScan = FakeAws.dynamo.commandCalls(ScanCommand).map((c) => c.args[0].input).find((i) => i.TableName === names.profiles)
    assert.deepInclude(profileScan, {
      ProjectionExpression: "CustID",
      FilterExpression: "TotalTnValue >= :threshold",
      ExpressionAttributeValues: { ":threshold": { N: "1000" } }
    })

    const screen = lines(StatusScreen.render(report))
    assert.strictEqual(screen[0], `Dyna Elite status — aws (account ${FakeAws.ACCOUNT}, ${FakeAws.REGION})`)
    assert.strictEqual(
      screen[1],
      `Tables       ${names.transactions} ≈4,012 · ${names.profiles} ? · ${names.rejected} ? · ${names.events} ? (item counts approx.: AWS refreshes them about every 6 h)`
    )
    assert.include(screen, `Stream       ${names.transactions} NEW_IMAGE, ENABLED, 1 open shard of 2`)
    assert.include(screen, `Function     ${fn} nodejs24.x, Active`)
    assert.include(screen, "Mapping      m-1 Enabled (User action), last result OK, batch size 100")
    assert.include(screen, `Lag          not measured here: see the IteratorAge metric of ${fn} in CloudWatch (AWS/Lambda)`)
    assert.include(screen, `Last hour    see CloudWatch: namespace DynaElite, FunctionName ${fn}`)
    assert.deepStrictEqual(report.lastHour, { _tag: "InCloudWatch", namespace: "DynaElite", functionName: fn })
    assert.include(screen, "Quarantined  1 record(s)   On-failure no destination configured (records given up on are dropped)")
    assert.strictEqual(StatusScreen.summary(report), "OK: mapping Enabled, lag: see IteratorAge in CloudWatch, 2 Elite, 1 quarantined.")
  })

  it("a Disabled mapping and a processing problem need attention", async () => {
    const fake = deployed()
    mapping(fake, "m-1", { state: "Disabled", reason: "User action", result: "PROBLEM: Function call failed" })
    const report = await gatherAws()
    assert.deepInclude(report.mapping._tag === "AwsMapping" ? report.mapping.mappings[0] : undefined, { uuid: "m-1", current: true, state: "Disabled" })
    assert.deepStrictEqual(report.attention, [
      "event source mapping m-1 is Disabled (User action) — run `pnpm provision --target aws`",
      "event source mapping m-1 reports PROBLEM: Function call failed — check the function's role can read the stream"
    ])
    assert.match(StatusScreen.summary(report), /^ATTENTION: event source mapping m-1 is Disabled/)
  })

  it("a mapping left on a replaced stream, and none on the current one", async () => {
    const fake = deployed()
    mapping(fake, "old", { state: "Enabled", stream: `${FakeAws.tableArn(names.transactions)}/stream/2020-01-01T00:00:00.000` })
    const report = await gatherAws()
    assert.deepStrictEqual(report.attention, [
      `no event source mapping from the stream to ${fn} — run \`pnpm provision --target aws\``,
      `1 mapping(s) of ${fn} read a replaced stream — run \`pnpm provision --target aws\``
    ])
    assert.include(StatusScreen.render(report), "Mapping      old Enabled, last result none yet, batch size 100, on a replaced stream")
  })

  it("the Jam's account before provisioning: a KEYS_ONLY stream, missing tables, its Python function", async () => {
    const { account } = FakeAws.jamAccount()
    serveScans({ CustProfile: [] })
    streams.reset()
    streams.on(DescribeStreamCommand).resolves({ StreamDescription: { StreamStatus: "ENABLED", StreamViewType: "KEYS_ONLY", Shards: [] } })
    const report = await gatherAws()
    assert.deepStrictEqual(report.tables.map((t) => t.exists), [true, true, false, false])
    assert.deepInclude(report.mapping, { function: { runtime: "python3.12", state: "Active" } })
    assert.deepStrictEqual(report.attention, [
      "table CustTransactionsRejected does not exist — run `pnpm provision --target aws`",
      "table CustEliteEvents does not exist — run `pnpm provision --target aws`",
      "the stream on CustTransactions carries KEYS_ONLY images, not new images — run `pnpm provision --target aws`"
    ])
    assert.strictEqual(account.mappings.get("jam-mapping")?.State, "Enabled")
  })

  it("no function, or Lambda refusing to answer, is shown, never a crash", async () => {
    FakeAws.account({ tables: [{ name: names.transactions, stream: "NEW_IMAGE" }, { name: names.profiles }, { name: names.rejected }, { name: names.events }] })
    serveScans({})
    const missing = await gatherAws()
    assert.deepStrictEqual(missing.attention, [`function ${fn} does not exist — run \`pnpm provision --target aws\``])
    assert.include(lines(StatusScreen.render(missing)), `Function     ${fn} missing`)

    const fake = deployed()
    fake.failAlways("GetFunction", () =>
      Object.assign(new Error("User is not authorized to perform: lambda:GetFunction"), { name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } }))
    const denied = await gatherAws()
    assert.strictEqual(denied.attention.length, 1)
    assert.match(denied.attention[0] ?? "", /^the function and its mapping cannot be read: Lambda GetFunction was denied/)
    assert.deepStrictEqual(denied.elite, { _tag: "Counted", count: 2 })
  })
})
