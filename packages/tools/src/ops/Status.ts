/**
 * `pnpm status`: what the deployment looks like right now — tables, the stream, the mapping (the local
 * runner or Lambda's), the lag, the last hour's totals, what was set aside, the Elite count — gathered into a plain `Report`
 * (`StatusReport`), with what needs attention decided by `Attention` and rendered by `StatusScreen`.
 */
import type { TableDescription } from "@aws-sdk/client-dynamodb"
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type Shard } from "@aws-sdk/client-dynamodb-streams"
import * as Attention from "@dyna/core/Attention"
import * as Elite from "@dyna/core/Elite"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as AwsCall from "@dyna/aws/AwsCall"
import * as Deployment from "@dyna/aws/Deployment"
import * as Metrics from "@dyna/aws/Metrics"
import { DynamoDb, type DynamoDbError } from "@dyna/aws/DynamoDb"
import { DynamoDbStreams } from "../clients/DynamoDbStreams.js"
import * as Background from "../local/Background.js"
import * as Checkpoints from "../local/Checkpoints.js"
import * as Filter from "../local/Filter.js"
import * as LocalConfig from "../local/LocalConfig.js"
import * as OnFailure from "../local/OnFailure.js"
import * as RunnerProcess from "../local/RunnerProcess.js"
import * as StreamEvent from "../local/StreamEvent.js"
import * as Arn from "../provision/Arn.js"
import * as EventSourceMapping from "../provision/EventSourceMapping.js"
import * as LambdaFunction from "../provision/LambdaFunction.js"
import { describeTable } from "@dyna/aws/TableDescription"
import * as Retry from "@dyna/aws/Retry"
import { Tables } from "@dyna/aws/Tables"
import { Buffer } from "node:buffer"
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs"
import * as Scan from "./Scan.js"
import type {
  AwsMapping,
  AwsMappingEntry,
  Count,
  Facts,
  Lag,
  LastHour,
  OnFailureReport,
  Report,
  StreamReport,
  TableReport,
  Totals
} from "./StatusReport.js"
import * as StatusScreen from "./StatusScreen.js"

/** How many `GetRecords` pages (of up to 1,000 records) status reads per shard to measure the lag. */
export const MAX_LAG_PAGES = 10

/** DynamoDB Local stamps `ApproximateCreationDateTime` to the minute (AWS to the second). */
export const LOCAL_STAMP_RESOLUTION_MILLIS = 60_000

/** The window `pnpm status` sums the function's metrics over. */
export const LAST_HOUR_MILLIS = 3_600_000

/**
 * How much of the end of the runner's log status reads for the last hour: an invocation writes about
 * 2 KB there, so this holds an hour of a batch a second with room to spare.
 */
export const MAX_LOG_TAIL_BYTES = 16 * 1024 * 1024

/**
 * The totals of the function's EMF lines (ours: namespace `Metrics.NAMESPACE`) among `lines` stamped
 * within the hour before `now`; every other line is passed over. Pure.
 */
export const lastHourTotals = (lines: ReadonlyArray<string>, now: number): Totals => {
  const totals = { batches: 0, applied: 0, duplicates: 0, quarantined: 0, promotions: 0, retried: 0 }
  for (const line of lines) {
    // Only a line that may be an EMF object is decoded: most of the log is other JSON.
    if (!line.includes('"_aws"')) continue
    const emitted = Metrics.decode(line)
    if (emitted === undefined || !emitted.namespaces.includes(Metrics.NAMESPACE)) continue
    if (emitted.timestamp <= now - LAST_HOUR_MILLIS || emitted.timestamp > now) continue
    const v = emitted.values
    totals.batches++
    totals.applied += v.RecordsApplied ?? 0
    totals.duplicates += v.DuplicatesSkipped ?? 0
    totals.quarantined += v.Quarantined ?? 0
    totals.promotions += v.Promotions ?? 0
    totals.retried += v.Retried ?? 0
  }
  return totals
}

/** The last `maxBytes` of a file (all of a smaller one); empty when there is no file. */
const readTail = (file: string, maxBytes: number) =>
  Effect.try({
    try: () => {
      if (!existsSync(file)) return ""
      const fd = openSync(file, "r")
      try {
        const size = fstatSync(fd).size
        const length = Math.min(size, maxBytes)
        const buffer = Buffer.alloc(length)
        readSync(fd, buffer, 0, length, size - length)
        return buffer.toString("utf8")
      } finally {
        closeSync(fd)
      }
    },
    catch: (e) => new Error(`cannot read ${file}: ${reasonOf(e)}`)
  })

/** The last hour's totals from the runner's log (the function's stdout lands there). */
const localLastHour = (logFile: string, now: number) =>
  readTail(logFile, MAX_LOG_TAIL_BYTES).pipe(
    Effect.map((text): LastHour => ({ _tag: "Summed", totals: lastHourTotals(text.split("\n"), now), file: logFile }))
  )

/** The report, with what needs attention worked out from the facts and said as sentences. */
export const make = (facts: Facts): Report => ({ ...facts, attention: StatusScreen.attention(facts) })

const reasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Runs a section; its failure becomes a reason on the screen instead of ending the command. */
const attempt = <A, E, R>(effect: Effect.Effect<A, E, R>, onFailure: (reason: string) => A) =>
  Effect.result(effect).pipe(Effect.map((r) => (Result.isSuccess(r) ? r.success : onFailure(reasonOf(r.failure)))))

/** Each table as DescribeTable reports it. A DynamoDB that does not answer fails the whole status. */
const tablesOf = (tables: Deployment.TableNames, approximate: boolean) =>
  Effect.forEach([
    ["transactions", tables.transactions],
    ["profiles", tables.profiles],
    ["quarantine", tables.rejected],
    ["events", tables.events]
  ] as const, ([role, name]) =>
    describeTable(name).pipe(Effect.map((description) => ({
      description,
      report: { role, name, exists: description !== undefined, itemCount: description?.ItemCount, approximate } satisfies TableReport
    }))))

/** Every shard of the stream, following `LastEvaluatedShardId`, and its status. */
const describeStream = (streamArn: string) =>
  Effect.gen(function*() {
    const streams = yield* DynamoDbStreams
    const shards: Array<Shard> = []
    let status: string | undefined
    let from: string | undefined
    do {
      const out = yield* Retry.onTransient(streams.call("DescribeStream", (c) =>
        c.send(new DescribeStreamCommand({ StreamArn: streamArn, ...(from === undefined ? {} : { ExclusiveStartShardId: from }) }))))
      status = out.StreamDescription?.StreamStatus
      shards.push(...(out.StreamDescription?.Shards ?? []))
      from = out.StreamDescription?.LastEvaluatedShardId
    } while (from !== undefined)
    return { status, shards }
  })

const streamOf = (name: string, table: TableDescription | undefined) =>
  Effect.gen(function*() {
    const spec = table?.StreamSpecification
    const enabled = spec?.StreamEnabled === true
    const arn = enabled ? table?.LatestStreamArn : undefined
    const base = { table: name, enabled, viewType: enabled ? spec?.StreamViewType : undefined, arn }
    if (arn === undefined) return { report: { ...base, status: undefined, shards: undefined, error: undefined } satisfies StreamReport, shards: [] }
    const described = yield* Effect.result(describeStream(arn))
    if (Result.isFailure(described)) {
      return { report: { ...base, status: undefined, shards: undefined, error: described.failure.message } satisfies StreamReport, shards: [] }
    }
    const { status, shards } = described.success
    const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined).length
    return {
      report: { ...base, status, shards: { open, total: shards.length }, error: undefined } satisfies StreamReport,
      shards: shards.flatMap((s) => (s.ShardId === undefined ? [] : [s.ShardId]))
    }
  })

const causeName = (e: DynamoDbError) => AwsCall.reported(e.cause).name

/** The records of one shard past its checkpoint that pass the filter: how many, and when the oldest was written. */
const waitingOn = (streamArn: string, shardId: string, checkpoint: string | undefined, filter: Filter.Filter) =>
  Effect.gen(function*() {
    const streams = yield* DynamoDbStreams
    const iteratorAt = (type: "TRIM_HORIZON" | "AFTER_SEQUENCE_NUMBER") =>
      Retry.onTransient(streams.call("GetShardIterator", (c) =>
        c.send(new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          ...(type === "AFTER_SEQUENCE_NUMBER" ? { SequenceNumber: checkpoint } : {})
        })))).pipe(Effect.map((out) => out.ShardIterator))
    // A checkpoint older than the stream keeps: everything kept is unread (as the runner reads it then).
    let iterator = checkpoint === undefined
      ? yield* iteratorAt("TRIM_HORIZON")
      : yield* iteratorAt("AFTER_SEQUENCE_NUMBER").pipe(
        Effect.catchIf((e) => causeName(e) === "TrimmedDataAccessException", () => iteratorAt("TRIM_HORIZON"))
      )
    let waiting = 0
    let oldest: number | undefined
    let pages = 0
    while (iterator !== undefined) {
      const current: string = iterator
      const page = yield* Retry.onTransient(streams.call("GetRecords", (c) => c.send(new GetRecordsCommand({ ShardIterator: current, Limit: 1000 })))).pipe(
        // DynamoDB Local answers so for an iterator on a shard that holds nothing yet.
        Effect.catchIf((e) => causeName(e) === "TrimmedDataAccessException", () => Effect.succeed({ Records: [], NextShardIterator: undefined }))
      )
      const records = page.Records ?? []
      for (const raw of records) {
        const record = StreamEvent.lambdaRecord(raw, streamArn)
        if (!Filter.matches(filter, record)) continue
        waiting++
        oldest ??= StreamEvent.createdAtMillis(record)
      }
      pages++
      if (records.length === 0) break
      if (pages >= MAX_LAG_PAGES) return { waiting, oldest, capped: page.NextShardIterator !== undefined }
      iterator = page.NextShardIterator
    }
    return { waiting, oldest, capped: false }
  })

/** The local lag: what waits past the runner's checkpoints on the table's current stream. */
const localLag = (stream: StreamReport, shardIds: ReadonlyArray<string>, checkpointFile: string, patterns: ReadonlyArray<string>, now: number) =>
  Effect.gen(function*() {
    const streamArn = stream.arn
    if (streamArn === undefined) return { _tag: "Unavailable", reason: "no stream to measure" } satisfies Lag
    // Without its shards nothing can be measured, and "caught up" would be a guess.
    if (stream.error !== undefined) return { _tag: "Unavailable", reason: "the stream cannot be described" } satisfies Lag
    const checkpoints = yield* Checkpoints.load(checkpointFile)
    // A filter the runner cannot parse stops it at start; then every record counts as waiting.
    const filter = Result.getOrElse(Filter.parseAll(patterns), (): Filter.Filter => [])
    const finished = Checkpoints.finished(checkpoints, streamArn)
    const shards = yield* Effect.forEach(
      shardIds.filter((id) => !finished.has(id)),
      (id) => waitingOn(streamArn, id, Checkpoints.get(checkpoints, streamArn, id)?.sequenceNumber, filter)
    )
    const oldest = shards.flatMap((s) => (s.oldest === undefined ? [] : [s.oldest]))
    return {
      _tag: "Measured",
      waiting: shards.reduce((n, s) => n + s.waiting, 0),
      capped: shards.some((s) => s.capped),
      oldestAgeMillis: oldest.length === 0 ? undefined : Math.max(0, now - Math.min(...oldest)),
      resolutionMillis: LOCAL_STAMP_RESOLUTION_MILLIS
    } satisfies Lag
  })

/** Items a Scan returns (with a filter, those that pass it), read one key attribute at a time. */
const countItems = (table: string, input: Scan.Options["input"]) =>
  Effect.gen(function*() {
    const count = yield* Ref.make(0)
    yield* Scan.forEachPage(table, (items) => Ref.update(count, (n) => n + items.length), { input })
    return { _tag: "Counted", count: yield* Ref.get(count) } satisfies Count
  })

const missing = (name: string): Count => ({ _tag: "Unavailable", reason: `no table ${name}` })

/** The quarantine's and the Elite counts, each by a Scan that returns only a key per item. */
const counts = (tables: Deployment.TableNames, exists: (name: string) => boolean) =>
  Effect.all({
    quarantined: exists(tables.rejected)
      ? attempt(countItems(tables.rejected, { ProjectionExpression: "RecordId" }), (reason): Count => ({ _tag: "Unavailable", reason }))
      : Effect.succeed(missing(tables.rejected)),
    elite: exists(tables.profiles)
      ? attempt(
        countItems(tables.profiles, {
          ProjectionExpression: "CustID",
          FilterExpression: "TotalTnValue >= :threshold",
          ExpressionAttributeValues: { ":threshold": { N: String(Elite.THRESHOLD_DOLLARS) } }
        }),
        (reason): Count => ({ _tag: "Unavailable", reason })
      )
      : Effect.succeed(missing(tables.profiles))
  })

const common = (approximate: boolean) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const tables = yield* Tables
    const now = yield* Clock.currentTimeMillis
    const described = yield* tablesOf(tables, approximate)
    const reports = described.map((d) => d.report)
    const exists = (name: string) => reports.some((t) => t.name === name && t.exists)
    const transactions = described[0]?.description
    const stream = yield* streamOf(tables.transactions, transactions)
    return { db, tables, now, reports, exists, transactions, stream, ...(yield* counts(tables, exists)) }
  })

/**
 * The local stack's status: the tables on DynamoDB Local, the runner (its pid file, mapping and status
 * files under `DYNA_HOME`), the lag measured on the stream from its checkpoints, its on-failure file.
 */
export const local = Effect.fn("Status.local")(function*() {
  const { runner, home } = yield* LocalConfig.settings
  const c = yield* common(false)
  const mapping = RunnerProcess.readMapping(runner.mappingFile)
  const pid = yield* Background.running(runner.pidFile)
  const written = RunnerProcess.readStatus(mapping?.statusFile ?? runner.statusFile)
  const status = written === undefined ? undefined : { ...written, ageMillis: Math.max(0, c.now - Date.parse(written.updatedAt)) }
  const lag = yield* attempt(
    localLag(
      c.stream.report,
      c.stream.shards,
      mapping?.checkpointFile ?? runner.checkpointFile,
      mapping?.settings.filterPatterns ?? Deployment.mappingSettings.filterPatterns,
      c.now
    ),
    (reason): Lag => ({ _tag: "Unavailable", reason })
  )
  const lastHour = yield* attempt(localLastHour(runner.logFile, c.now), (reason): LastHour => ({ _tag: "Unavailable", reason }))
  const onFailureFile = mapping?.onFailureFile ?? runner.onFailureFile
  const onFailure = yield* attempt(
    OnFailure.list(onFailureFile).pipe(Effect.map((entries): OnFailureReport => ({
      _tag: "Counted",
      records: entries.reduce((n, e) => n + e.DDBStreamBatchInfo.batchSize, 0),
      batches: entries.length,
      file: onFailureFile
    }))),
    (reason): OnFailureReport => ({ _tag: "Unavailable", reason })
  )
  return make({
    target: "local",
    generatedAt: new Date(c.now).toISOString(),
    endpoint: c.db.endpoint,
    home,
    region: undefined,
    account: undefined,
    tables: c.reports,
    stream: c.stream.report,
    mapping: {
      _tag: "LocalRunner",
      pid,
      streamArn: mapping?.streamArn,
      status,
      // An updatedAt that is no date gives NaN, which counts as stale too.
      stale: status !== undefined && Attention.isStale(status.ageMillis)
    },
    lag,
    lastHour,
    quarantined: c.quarantined,
    onFailure,
    elite: c.elite
  })
})

const awsMapping = (functionName: string, tableArn: string | undefined, streamArn: string | undefined) =>
  Effect.gen(function*() {
    const fn = yield* LambdaFunction.describe(functionName)
    if (fn === undefined) return { _tag: "AwsMapping", functionName, function: undefined, mappings: [], error: undefined } satisfies AwsMapping
    const all = tableArn === undefined ? [] : yield* EventSourceMapping.list(functionName)
    const mappings = all
      .filter((m) => m.EventSourceArn?.startsWith(`${tableArn}/stream/`) === true)
      .map((m): AwsMappingEntry => ({
        uuid: m.UUID ?? "?",
        eventSourceArn: m.EventSourceArn ?? "",
        current: m.EventSourceArn === streamArn,
        state: m.State ?? "unknown",
        stateTransitionReason: m.StateTransitionReason,
        lastProcessingResult: m.LastProcessingResult,
        batchSize: m.BatchSize,
        onFailureDestination: m.DestinationConfig?.OnFailure?.Destination
      }))
      .sort((a, b) => Number(b.current) - Number(a.current))
    return {
      _tag: "AwsMapping",
      functionName,
      function: { runtime: fn.Runtime, state: fn.State },
      mappings,
      error: undefined
    } satisfies AwsMapping
  })

/**
 * An AWS account's status: the tables (item counts approximate), the stream, the function and its event
 * source mappings from the table's streams. Lambda keeps the lag in CloudWatch (`IteratorAge`), not in
 * any API this reads, so it is named, not measured.
 */
export const aws = Effect.fn("Status.aws")(function*(functionName: string) {
  const region = yield* AwsCall.region
  const c = yield* common(true)
  const tableArn = c.transactions?.TableArn
  const account = tableArn === undefined ? undefined : Result.getOrUndefined(Arn.parse(tableArn))?.account
  const mapping = yield* attempt(
    awsMapping(functionName, tableArn, c.stream.report.arn),
    (reason): AwsMapping => ({ _tag: "AwsMapping", functionName, function: undefined, mappings: [], error: reason })
  )
  const destination = mapping.mappings.find((e) => e.current)?.onFailureDestination
  return make({
    target: "aws",
    generatedAt: new Date(c.now).toISOString(),
    endpoint: c.db.endpoint,
    home: undefined,
    region,
    account,
    tables: c.reports,
    stream: c.stream.report,
    mapping,
    lag: { _tag: "Unavailable", reason: `not measured here: see the IteratorAge metric of ${functionName} in CloudWatch (AWS/Lambda)` },
    lastHour: { _tag: "InCloudWatch", namespace: Metrics.NAMESPACE, functionName },
    quarantined: c.quarantined,
    onFailure: destination === undefined ? { _tag: "NoDestination" } : { _tag: "Destination", arn: destination },
    elite: c.elite
  })
})
