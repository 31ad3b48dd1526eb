import { DeleteItemCommand, DescribeTableCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  LimitExceededException
} from "@aws-sdk/client-dynamodb-streams"
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import { DynamoDbStreams } from "../src/clients/DynamoDbStreams.js"
import * as Checkpoints from "../src/local/Checkpoints.js"
import * as Lanes from "../src/local/Lanes.js"
import * as OnFailure from "../src/local/OnFailure.js"
import * as Runner from "../src/local/Runner.js"
import * as RunnerProgress from "../src/local/RunnerProgress.js"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"
import * as LocalStreams from "./support/LocalStreams.js"

const AWS_SDK_OPTIONS = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } }

/** Small, fast settings: the deployment's mapping with a short retry budget. */
const settings = (overrides: Partial<Deployment.MappingSettings> = {}): Deployment.MappingSettings => ({
  ...Deployment.mappingSettings,
  maximumRetryAttempts: 2,
  ...overrides
})

const dir = mkdtempSync(join(tmpdir(), "runner-test-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let fileCount = 0
/** A checkpoint file and an on-failure file no other test uses. */
const files = () => {
  fileCount++
  return { checkpointFile: join(dir, `checkpoints-${fileCount}.json`), onFailureFile: join(dir, `on-failure-${fileCount}.jsonl`) }
}

/** Fresh tables with a NEW_IMAGE stream, and that stream's ARN. */
const freshStream = async () => {
  const names = await DynamoLocal.freshTables()
  const table = await DynamoLocal.client().send(new DescribeTableCommand({ TableName: names.transactions }))
  const streamArn = table.Table?.LatestStreamArn
  if (streamArn === undefined) throw new Error("the transactions table has no stream")
  return { names, streamArn }
}

const put = (names: DynamoLocal.TableNames, custId: string, tnNum: number, tnValue: number) =>
  DynamoLocal.putItem(names.transactions, { CustID: { S: custId }, TnNum: { N: String(tnNum) }, TnValue: { N: String(tnValue) } })

/** Every sequence number on the stream so far, in order, read with a plain SDK client. */
const streamSequenceNumbers = async (streamArn: string): Promise<Array<string>> => {
  const streams = new DynamoDBStreamsClient({ endpoint: DynamoLocal.endpoint(), ...AWS_SDK_OPTIONS })
  const out: Array<string> = []
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))
  for (const shard of StreamDescription?.Shards ?? []) {
    let iterator = (await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" })
    )).ShardIterator
    while (iterator !== undefined) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }))
      if ((page.Records ?? []).length === 0) break
      for (const r of page.Records ?? []) out.push(r.dynamodb?.SequenceNumber ?? "")
      iterator = page.NextShardIterator
    }
  }
  streams.destroy()
  return out
}

/** A test function: records every event it gets, answers with `respond` (which may throw). */
const recorder = (respond: (event: DynamoDBStreamEvent, call: number) => Promise<DynamoDBBatchResponse | void> = async () => {}) => {
  const events: Array<DynamoDBStreamEvent> = []
  const invoke = (event: DynamoDBStreamEvent) => {
    events.push(structuredClone(event))
    return respond(event, events.length)
  }
  const sequenceNumbers = (event: DynamoDBStreamEvent | undefined) => (event?.Records ?? []).map((r) => r.dynamodb?.SequenceNumber)
  return { invoke, events, sequenceNumbers }
}

type LogLine = DynamoLocal.LogLine


/** All shards read, nothing waiting, and the last read found nothing new. */
const caughtUp = (p: RunnerProgress.Progress) => {
  const shards = Object.values(p.shards)
  return shards.length > 0 && shards.every((s) => s.caughtUp)
}

/**
 * Runs the runner until `until` holds for its progress, then stops it (interrupts it) and returns the
 * last progress. Fails if the runner fails first, or after 20 seconds.
 */
const runUntil = (
  options: Omit<Runner.Options, "progress" | "pollInterval">,
  until: (p: RunnerProgress.Progress) => boolean = caughtUp,
  logs: Array<LogLine> = [],
  streams: Layer.Layer<DynamoDbStreams, unknown> = LocalStreams.streamsLayer()
) =>
  Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const progress = yield* RunnerProgress.make
      const fiber = yield* Effect.forkScoped(Runner.run({ ...options, progress, pollInterval: "20 millis" }))
      const reached = SubscriptionRef.changes(progress).pipe(Stream.filter(until), Stream.runHead)
      yield* Effect.raceFirst(reached, Fiber.join(fiber)).pipe(Effect.timeout("20 seconds"))
      yield* Fiber.interrupt(fiber)
      return yield* SubscriptionRef.get(progress)
    })).pipe(
      Effect.provide(Layer.mergeAll(
        streams,
        Logger.layer([Logger.map(Logger.formatStructured, (line) => void logs.push(line))])
      ))
    )
  )

/** Runs the runner while `act` writes and waits (`when`) on its progress, then stops it. */
const whileRunning = (
  options: Omit<Runner.Options, "progress" | "pollInterval">,
  act: (when: (f: (p: RunnerProgress.Progress) => boolean) => Effect.Effect<unknown, unknown>) => Effect.Effect<void, unknown>
) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const progress = yield* RunnerProgress.make
    const fiber = yield* Effect.forkScoped(Runner.run({ ...options, progress, pollInterval: "20 millis" }))
    yield* act((f) =>
      Effect.raceFirst(SubscriptionRef.changes(progress).pipe(Stream.filter(f), Stream.runHead), Fiber.join(fiber)).pipe(
        Effect.timeout("10 seconds")
      )
    )
    yield* Fiber.interrupt(fiber)
  })).pipe(Effect.provide(Layer.mergeAll(LocalStreams.streamsLayer(), Logger.layer([])))))

/** The i-th element, which the test knows is there. */
const nth = <A>(items: ReadonlyArray<A>, i: number): A => {
  const item = items[i]
  if (item === undefined) throw new Error(`expected an element at ${i} of ${items.length}`)
  return item
}

const checkpointOf = (p: RunnerProgress.Progress) => Object.values(p.shards).map((s) => s.checkpoint).at(-1)

describe("Runner on a DynamoDB Local stream", () => {
  const handlers: Array<{ dispose: () => Promise<void> }> = []
  afterAll(async () => {
    for (const h of handlers) await h.dispose()
  })

  it("delivers INSERTs to the real handler as Lambda shapes them; MODIFY and REMOVE are filtered out and passed", async () => {
    const { names, streamArn } = await freshStream()
    await put(names, "ins-1", 1, 400)
    await put(names, "ins-1", 2, 650)
    await put(names, "ins-2", 1, 90)
    await DynamoLocal.client().send(new UpdateItemCommand({
      TableName: names.transactions,
      Key: { CustID: { S: "ins-1" }, TnNum: { N: "1" } },
      UpdateExpression: "SET TnValue = :v",
      ExpressionAttributeValues: { ":v": { N: "4000" } }
    }))
    await DynamoLocal.client().send(new DeleteItemCommand({
      TableName: names.transactions,
      Key: { CustID: { S: "ins-2" }, TnNum: { N: "1" } }
    }))
    const live = DynamoLocal.handler(names)
    handlers.push(live)
    const fn = recorder((event) => live.handler(event))

    const progress = await runUntil({ streamArn, settings: settings(), invoke: fn.invoke, ...files() })

    const records = fn.events.flatMap((e) => e.Records)
    assert.deepStrictEqual(records.map((r) => r.eventName), ["INSERT", "INSERT", "INSERT"])
    for (const r of records) {
      assert.strictEqual(r.eventSourceARN, streamArn)
      assert.strictEqual(r.eventSource, "aws:dynamodb")
      assert.isTrue(Number.isInteger(r.dynamodb?.ApproximateCreationDateTime))
      assert.match(r.dynamodb?.SequenceNumber ?? "", /^\d{21,40}$/)
      assert.strictEqual(r.dynamodb?.StreamViewType, "NEW_IMAGE")
    }
    assert.deepStrictEqual(records[1]?.dynamodb?.NewImage, { CustID: { S: "ins-1" }, TnNum: { N: "2" }, TnValue: { N: "650" } })
    assert.deepInclude(await DynamoLocal.profileRow(names, "ins-1"), { TotalTnValue: 1050, CustStatus: "Elite" })
    assert.deepInclude(await DynamoLocal.profileRow(names, "ins-2"), { TotalTnValue: 90, CustStatus: "Normal" })
    // The checkpoint moved past the filtered-out MODIFY and REMOVE too.
    const all = await streamSequenceNumbers(streamArn)
    assert.strictEqual(all.length, 5)
    assert.strictEqual(checkpointOf(progress), all.at(-1))
    assert.deepInclude(progress, { batches: 1, records: 3, onFailure: 0 })
  })

  it("hands out at most batchSize records per invocation, in stream order", async () => {
    const { names, streamArn } = await freshStream()
    for (let i = 1; i <= 7; i++) await put(names, "size", i, i)
    const fn = recorder()

    await runUntil({ streamArn, settings: settings({ batchSize: 3 }), invoke: fn.invoke, ...files() })

    assert.deepStrictEqual(fn.events.map((e) => e.Records.length), [3, 3, 1])
    assert.deepStrictEqual(fn.events.flatMap(fn.sequenceNumbers), await streamSequenceNumbers(streamArn))
  })

  it("after a partial failure, delivers again from the lowest failed sequence number, and nothing before it", async () => {
    const { names, streamArn } = await freshStream()
    for (let i = 1; i <= 5; i++) await put(names, "partial", i, i)
    const seq = await streamSequenceNumbers(streamArn)
    const fn = recorder(async (_, call) =>
      call === 1
        // Reported out of order: the lowest, not the first, decides.
        ? { batchItemFailures: [{ itemIdentifier: nth(seq, 3) }, { itemIdentifier: nth(seq, 1) }] }
        : { batchItemFailures: [] }
    )

    const progress = await runUntil({ streamArn, settings: settings(), invoke: fn.invoke, ...files() })

    assert.deepStrictEqual(fn.events.map(fn.sequenceNumbers), [seq, seq.slice(1)])
    assert.strictEqual(checkpointOf(progress), seq.at(-1))
  })

  it("ignores batchItemFailures when the mapping does not report batch item failures", async () => {
    const { names, streamArn } = await freshStream()
    for (let i = 1; i <= 3; i++) await put(names, "no-report", i, i)
    const seq = await streamSequenceNumbers(streamArn)
    const fn = recorder(async () => ({ batchItemFailures: [{ itemIdentifier: nth(seq, 0) }] }))

    await runUntil({ streamArn, settings: settings({ functionResponseTypes: [] }), invoke: fn.invoke, ...files() })

    assert.deepStrictEqual(fn.events.map(fn.sequenceNumbers), [seq])
  })

  it("fails the whole batch when an itemIdentifier names no record of it", async () => {
    const { names, streamArn } = await freshStream()
    for (let i = 1; i <= 3; i++) await put(names, "stranger", i, i)
    const seq = await streamSequenceNumbers(streamArn)
    const fn = recorder(async (_, call) =>
      call === 1 ? { batchItemFailures: [{ itemIdentifier: "999999999999999999999" }] } : undefined
    )

    await runUntil({ streamArn, settings: settings(), invoke: fn.invoke, ...files() })

    assert.deepStrictEqual(fn.events.map(fn.sequenceNumbers), [seq, seq])
  })

  it("bisects on a function error: the poison record lands in the on-failure file after its retries, the rest is applied", async () => {
    const { names, streamArn } = await freshStream()
    const rows = [["bis-a", 100], ["bis-b", 200], ["bis-poison", 13], ["bis-c", 300], ["bis-d", 400], ["bis-e", 500]] as const
    for (const [custId, value] of rows) await put(names, custId, 1, value)
    const seq = await streamSequenceNumbers(streamArn)
    const live = DynamoLocal.handler(names)
    handlers.push(live)
    const isPoison = (event: DynamoDBStreamEvent) => event.Records.some((r) => r.dynamodb?.NewImage?.CustID?.S === "bis-poison")
    const succeeded: Array<DynamoDBStreamEvent> = []
    const fn = recorder(async (event) => {
      if (isPoison(event)) throw new Error("cannot handle bis-poison")
      succeeded.push(event)
      return live.handler(event)
    })
    const { onFailureFile, checkpointFile } = files()

    const progress = await runUntil({
      streamArn,
      settings: settings({ batchSize: 10, bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 }),
      invoke: fn.invoke,
      checkpointFile,
      onFailureFile
    })

    // Every other record was handled exactly once, in order, by an invocation that succeeded.
    assert.deepStrictEqual(succeeded.flatMap(fn.sequenceNumbers), seq.filter((_, i) => i !== 2))
    for (const [custId, value] of rows.filter(([c]) => c !== "bis-poison")) {
      assert.deepInclude(await DynamoLocal.profileRow(names, custId), { TotalTnValue: value })
    }
    // Alone, the poison record was tried once and retried twice.
    const alone = fn.events.filter((e) => e.Records.length === 1 && isPoison(e))
    assert.strictEqual(alone.length, 3)
    const [entry, ...more] = await Effect.runPromise(OnFailure.list(onFailureFile))
    assert.strictEqual(more.length, 0)
    assert.strictEqual(entry?.requestContext.condition, "RetryAttemptsExhausted")
    assert.isAtLeast(entry?.requestContext.approximateInvokeCount ?? 0, 3)
    assert.strictEqual(entry?.responseContext?.functionError, "Unhandled")
    assert.deepInclude(entry?.DDBStreamBatchInfo, {
      startSequenceNumber: nth(seq, 2),
      endSequenceNumber: nth(seq, 2),
      batchSize: 1,
      streamArn
    })
    assert.match(entry?.DDBStreamBatchInfo.approximateArrivalOfFirstRecord ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    assert.deepStrictEqual(entry?.payload.Records, alone[0]?.Records)
    assert.strictEqual(checkpointOf(progress), seq.at(-1))
    assert.strictEqual(progress.onFailure, 1)
  })

  it("counts an invocation that outlives the function timeout as a function error", async () => {
    const { names, streamArn } = await freshStream()
    await put(names, "slow", 1, 1)
    await put(names, "slow", 2, 2)
    const fn = recorder(() => new Promise<never>(() => {}))
    const { onFailureFile, checkpointFile } = files()
    const logs: Array<LogLine> = []

    await runUntil({
      streamArn,
      settings: settings({ maximumRetryAttempts: 0, bisectBatchOnFunctionError: false }),
      invoke: fn.invoke,
      functionTimeout: "200 millis",
      checkpointFile,
      onFailureFile
    }, caughtUp, logs)

    assert.strictEqual(fn.events.length, 1)
    const entries = await Effect.runPromise(OnFailure.list(onFailureFile))
    assert.deepStrictEqual(entries.map((e) => [e.requestContext.condition, e.DDBStreamBatchInfo.batchSize, e.responseContext?.functionError]), [
      ["RetryAttemptsExhausted", 2, "Unhandled"]
    ])
    const failed = logs.find((l) => l.message === "batch failed")
    assert.deepInclude(failed?.annotations, { outcome: "function error", reason: "Task timed out after 0.2 seconds", size: 2 })
  })

  it("gives up records older than maximumRecordAgeInSeconds without invoking the function", async () => {
    const { names, streamArn } = await freshStream()
    await put(names, "old", 1, 1)
    await put(names, "old", 2, 2)
    const seq = await streamSequenceNumbers(streamArn)
    const fn = recorder()
    const { onFailureFile, checkpointFile } = files()

    const progress = await runUntil({
      streamArn,
      settings: settings({ maximumRecordAgeInSeconds: 0 }),
      invoke: fn.invoke,
      checkpointFile,
      onFailureFile
    })

    assert.strictEqual(fn.events.length, 0)
    const [entry] = await Effect.runPromise(OnFailure.list(onFailureFile))
    assert.strictEqual(entry?.requestContext.condition, "RecordAgeExceeded")
    assert.strictEqual(entry?.requestContext.approximateInvokeCount, 0)
    assert.isUndefined(entry?.responseContext)
    assert.deepInclude(entry?.DDBStreamBatchInfo, { startSequenceNumber: nth(seq, 0), endSequenceNumber: nth(seq, 1), batchSize: 2 })
    assert.strictEqual(checkpointOf(progress), seq.at(-1))
  })

  it("waits up to the batching window for a fuller batch", async () => {
    const { names, streamArn } = await freshStream()
    await put(names, "window", 1, 1)
    await put(names, "window", 2, 2)
    const fn = recorder()
    const options = { streamArn, settings: settings({ maximumBatchingWindowInSeconds: 1 }), invoke: fn.invoke, ...files() }

    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const progress = yield* RunnerProgress.make
      const fiber = yield* Effect.forkScoped(Runner.run({ ...options, progress, pollInterval: "20 millis" }))
      const when = (f: (p: RunnerProgress.Progress) => boolean) =>
        Effect.raceFirst(SubscriptionRef.changes(progress).pipe(Stream.filter(f), Stream.runHead), Fiber.join(fiber)).pipe(
          Effect.timeout("10 seconds")
        )
      yield* when((p) => Object.values(p.shards).some((s) => s.pending === 2))
      yield* Effect.promise(() => put(names, "window", 3, 3))
      yield* Effect.promise(() => put(names, "window", 4, 4))
      yield* when((p) => p.records === 4 && caughtUp(p))
      yield* Fiber.interrupt(fiber)
    })).pipe(Effect.provide(Layer.mergeAll(LocalStreams.streamsLayer(), Logger.layer([])))))

    assert.deepStrictEqual(fn.events.map((e) => e.Records.length), [4])
  })

  it("resumes after its checkpoint when started again: nothing handled is delivered twice, nothing is lost", async () => {
    const { names, streamArn } = await freshStream()
    for (let i = 1; i <= 3; i++) await put(names, "restart", i, i)
    const shared = files()
    const first = recorder()

    const before = await runUntil({ streamArn, settings: settings(), invoke: first.invoke, ...shared })

    for (let i = 4; i <= 5; i++) await put(names, "restart", i, i)
    const seq = await streamSequenceNumbers(streamArn)
    const second = recorder()
    const after = await runUntil({ streamArn, settings: settings({ startingPosition: "TRIM_HORIZON" }), invoke: second.invoke, ...shared })

    assert.deepStrictEqual(first.events.flatMap(first.sequenceNumbers), seq.slice(0, 3))
    assert.deepStrictEqual(second.events.flatMap(second.sequenceNumbers), seq.slice(3))
    assert.strictEqual(checkpointOf(before), seq[2])
    assert.strictEqual(checkpointOf(after), seq[4])
    const onDisk = await Effect.runPromise(Checkpoints.load(shared.checkpointFile))
    assert.deepStrictEqual(Object.values(onDisk.streams[streamArn] ?? {}), [{ sequenceNumber: seq[4], finished: false }])
  })

  it("starts at LATEST when asked: what the stream held before is not delivered", async () => {
    const { names, streamArn } = await freshStream()
    await put(names, "latest", 1, 1)
    await put(names, "latest", 2, 2)
    const fn = recorder()
    const options = { streamArn, settings: settings({ startingPosition: "LATEST" }), invoke: fn.invoke, ...files() }

    await whileRunning(options, (when) =>
      Effect.gen(function*() {
        yield* when(caughtUp)
        yield* Effect.promise(() => put(names, "latest", 3, 3))
        yield* when((p) => p.records === 1 && caughtUp(p))
      }))

    const seq = await streamSequenceNumbers(streamArn)
    assert.deepStrictEqual(fn.events.flatMap(fn.sequenceNumbers), [seq[2]])
  })

  it("delivers what arrives on a stream that was empty when it started reading", async () => {
    // The iterator taken at TRIM_HORIZON of an empty shard must still see what is written later.
    const { names, streamArn } = await freshStream()
    const fn = recorder()
    const options = { streamArn, settings: settings(), invoke: fn.invoke, ...files() }

    await whileRunning(options, (when) =>
      Effect.gen(function*() {
        yield* when(caughtUp)
        yield* Effect.sleep("500 millis")
        yield* Effect.promise(() => put(names, "empty-at-start", 1, 1))
        yield* Effect.promise(() => put(names, "empty-at-start", 2, 2))
        yield* when((p) => p.records === 2 && caughtUp(p))
      }))

    assert.deepStrictEqual(fn.events.flatMap(fn.sequenceNumbers), await streamSequenceNumbers(streamArn))
  })

  it("gets a new iterator when one expires and rides out throttling, losing and repeating nothing", async () => {
    const { names, streamArn } = await freshStream()
    for (let i = 1; i <= 3; i++) await put(names, "faults", i, i)
    const calls = { GetRecordsCommand: 0, GetShardIteratorCommand: 0 }
    // Faults are SDK exceptions thrown at the client, as the service would send them.
    const client = new DynamoDBStreamsClient({ endpoint: DynamoLocal.endpoint(), ...AWS_SDK_OPTIONS, maxAttempts: 1 })
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "GetShardIteratorCommand") calls.GetShardIteratorCommand++
        if (context.commandName === "GetRecordsCommand") {
          calls.GetRecordsCommand++
          if (calls.GetRecordsCommand === 2) throw new ExpiredIteratorException({ message: "Iterator expired", $metadata: {} })
          if (calls.GetRecordsCommand === 3) throw new LimitExceededException({ message: "Rate exceeded", $metadata: {} })
        }
        return next(args)
      },
      { step: "initialize", name: "testFaults" }
    )
    const fn = recorder()
    const logs: Array<LogLine> = []

    await runUntil(
      { streamArn, settings: settings({ batchSize: 2 }), invoke: fn.invoke, ...files() },
      caughtUp,
      logs,
      Layer.succeed(DynamoDbStreams, DynamoDbStreams.fromClient(client, DynamoLocal.endpoint()))
    )
    client.destroy()

    assert.deepStrictEqual(fn.events.flatMap(fn.sequenceNumbers), await streamSequenceNumbers(streamArn))
    assert.strictEqual(calls.GetShardIteratorCommand, 2)
    assert.isAtLeast(calls.GetRecordsCommand, 4)
    const warning = logs.find((l) => l.message === "stream read failed; trying again")
    assert.deepInclude(warning?.annotations, { operation: "GetRecords" })
  })

  it("refuses, before reading anything, a filter operator it does not implement", async () => {
    const fn = recorder()
    const error = await Effect.runPromise(
      Runner.run({
        // No such stream: reading anything would fail differently.
        streamArn: "arn:aws:dynamodb:ddblocal:000000000000:table/none/stream/2020-01-01T00:00:00.000",
        settings: settings({ filterPatterns: [JSON.stringify({ eventName: [{ prefix: "INS" }] })] }),
        invoke: fn.invoke,
        ...files()
      }).pipe(Effect.flip, Effect.provide(LocalStreams.streamsLayer()))
    )
    assert.strictEqual(error._tag, "FilterError")
    assert.include(error.message, `"prefix" operator is not supported`)
  })

  it("refuses a parallelization factor outside 1 to 10", async () => {
    const fn = recorder()
    const error = await Effect.runPromise(
      Runner.run({
        streamArn: "arn:aws:dynamodb:ddblocal:000000000000:table/none/stream/2020-01-01T00:00:00.000",
        settings: settings({ parallelizationFactor: 11 }),
        invoke: fn.invoke,
        ...files()
      }).pipe(Effect.flip, Effect.provide(LocalStreams.streamsLayer()))
    )
    assert.strictEqual(error._tag, "UnsupportedSetting")
    assert.include(error.message, "parallelizationFactor")
  })

  it("fails when the stream does not exist", async () => {
    const fn = recorder()
    const error = await Effect.runPromise(
      Runner.run({
        streamArn: "arn:aws:dynamodb:ddblocal:000000000000:table/none/stream/2020-01-01T00:00:00.000",
        settings: settings(),
        invoke: fn.invoke,
        ...files()
      }).pipe(Effect.flip, Effect.provide(Layer.mergeAll(LocalStreams.streamsLayer(), Logger.layer([]))))
    )
    assert.strictEqual(error._tag, "DynamoDbError")
    assert.deepInclude(error, { operation: "DescribeStream", kind: "NotFound" })
  })
})

describe("Runner with a parallelization factor of 4", () => {
  const handlers: Array<{ dispose: () => Promise<void> }> = []
  afterAll(async () => {
    for (const h of handlers) await h.dispose()
  })

  /** A record's item, as its Keys name it. */
  const itemOf = (r: DynamoDBStreamEvent["Records"][number]) => `${r.dynamodb?.Keys?.CustID?.S}#${r.dynamodb?.Keys?.TnNum?.N}`

  /** Wraps `invoke`: how many invocations were in flight at most, and whether two in flight ever shared an item. */
  const watched = (invoke: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>) => {
    const inFlight = new Set<ReadonlySet<string>>()
    const seen = { most: 0, sharedItem: false }
    const wrapped = async (event: DynamoDBStreamEvent) => {
      const items = new Set(event.Records.map(itemOf))
      for (const other of inFlight) if ([...items].some((i) => other.has(i))) seen.sharedItem = true
      inFlight.add(items)
      seen.most = Math.max(seen.most, inFlight.size)
      try {
        return await invoke(event)
      } finally {
        inFlight.delete(items)
      }
    }
    return { invoke: wrapped, seen }
  }

  it("delivers up to 4 batches of a shard at once, every record once, and the profiles are exact", async () => {
    const { names, streamArn } = await freshStream()
    const expected = new Map<string, number>()
    for (let c = 0; c < 20; c++) {
      for (let n = 1; n <= 10; n++) {
        await put(names, `par-${c}`, n, 10 * c + n)
        expected.set(`par-${c}`, (expected.get(`par-${c}`) ?? 0) + 10 * c + n)
      }
    }
    const live = DynamoLocal.handler(names)
    handlers.push(live)
    const fn = recorder(async (event) => {
      // A little slower than DynamoDB Local alone, so batches of one shard surely overlap.
      await new Promise((resolve) => setTimeout(resolve, 20))
      return live.handler(event)
    })
    const w = watched(fn.invoke)

    const progress = await runUntil({ streamArn, settings: settings({ batchSize: 10, parallelizationFactor: 4 }), invoke: w.invoke, ...files() })

    assert.isAbove(w.seen.most, 1)
    assert.isAtMost(w.seen.most, 4)
    const all = await streamSequenceNumbers(streamArn)
    const delivered = fn.events.flatMap(fn.sequenceNumbers)
    assert.strictEqual(delivered.length, 200)
    assert.deepStrictEqual([...delivered].sort(), [...all].sort())
    assert.strictEqual(checkpointOf(progress), all.at(-1))
    for (const [custId, total] of expected) assert.deepInclude(await DynamoLocal.profileRow(names, custId), { TotalTnValue: total })
  })

  it("keeps each item's records in stream order, never in two batches at once", async () => {
    const { names, streamArn } = await freshStream()
    // INSERT, then MODIFYs of the same items, interleaved across items; no filter, so all are delivered.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 12; i++) await put(names, `order-${i}`, 1, 100 * round + i)
    }
    const fn = recorder(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10))
    })
    const w = watched(fn.invoke)

    await runUntil({ streamArn, settings: settings({ batchSize: 3, parallelizationFactor: 4, filterPatterns: [] }), invoke: w.invoke, ...files() })

    assert.isAbove(w.seen.most, 1)
    assert.isFalse(w.seen.sharedItem)
    const records = fn.events.flatMap((e) => e.Records)
    assert.strictEqual(records.length, 48)
    for (let i = 0; i < 12; i++) {
      const values = records.filter((r) => itemOf(r) === `order-${i}#1`).map((r) => r.dynamodb?.NewImage?.TnValue?.N)
      assert.deepStrictEqual(values, [0, 1, 2, 3].map((round) => String(100 * round + i)))
    }
  })

  it("never checkpoints past a lane that has not finished: a restart delivers again from there, skipping nothing", async () => {
    const { names, streamArn } = await freshStream()
    for (let i = 0; i < 12; i++) await put(names, `lane-${i}`, 1, i)
    const seq = await streamSequenceNumbers(streamArn)
    // The third record's batch never ends; the records after it in its lane wait behind it.
    const laneOf = (i: number) =>
      Lanes.laneOf({ dynamodb: { Keys: { CustID: { S: `lane-${i}` }, TnNum: { N: "1" } } } }, 4)
    const blockedLane = laneOf(2)
    const finishable = Array.from({ length: 12 }, (_, i) => i).filter((i) => i < 2 || laneOf(i) !== blockedLane).length
    const shared = files()
    const first = recorder((event) =>
      event.Records.some((r) => r.dynamodb?.SequenceNumber === seq[2]) ? new Promise<void>(() => {}) : Promise.resolve()
    )

    const stuck = await runUntil(
      { streamArn, settings: settings({ batchSize: 1, parallelizationFactor: 4 }), invoke: first.invoke, ...shared },
      (p) => p.records === finishable
    )

    assert.isBelow(finishable, 11)
    assert.strictEqual(checkpointOf(stuck), seq[1])
    const onDisk = await Effect.runPromise(Checkpoints.load(shared.checkpointFile))
    assert.deepStrictEqual(Object.values(onDisk.streams[streamArn] ?? {}).map((s) => s.sequenceNumber), [seq[1]])

    const second = recorder()
    const after = await runUntil({ streamArn, settings: settings({ batchSize: 1, parallelizationFactor: 4 }), invoke: second.invoke, ...shared })

    assert.deepStrictEqual(second.events.flatMap(second.sequenceNumbers).sort(), seq.slice(2).sort())
    assert.strictEqual(checkpointOf(after), seq.at(-1))
  })
})
