/**
 * `pnpm status`: what the deployment looks like right now — tables, the stream, the mapping (the local
 * runner or Lambda's), the lag, what was set aside, the Elite count — gathered into a plain `Report`,
 * then rendered as one screen and a one-line summary by pure functions.
 */
import type { TableDescription } from "@aws-sdk/client-dynamodb"
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type Shard } from "@aws-sdk/client-dynamodb-streams"
import * as Elite from "@dyna/core/Elite"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as AwsCall from "@dyna/aws/AwsCall"
import * as Deployment from "@dyna/aws/Deployment"
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
import * as LambdaFunction from "../provision/Function.js"
import { describeTable } from "@dyna/aws/TableDescription"
import * as Retry from "@dyna/aws/Retry"
import { Tables } from "@dyna/aws/Tables"
import * as Scan from "./Scan.js"

// ---------------------------------------------------------------------------------------------------
// The report: plain, JSON-ready data.

/** Which of the deployment's tables. */
export type TableRole = "transactions" | "profiles" | "quarantine" | "events"

export interface TableReport {
  readonly role: TableRole
  readonly name: string
  readonly exists: boolean
  /** DescribeTable's `ItemCount`: live on DynamoDB Local, refreshed only about every six hours on AWS. */
  readonly itemCount: number | undefined
  readonly approximate: boolean
}

export interface StreamReport {
  readonly table: string
  readonly enabled: boolean
  readonly viewType: string | undefined
  readonly arn: string | undefined
  /** DescribeStream's `StreamStatus`: `ENABLED`, `ENABLING`, `DISABLING`, `DISABLED`. */
  readonly status: string | undefined
  /** Open shards (no ending sequence number) and all the stream lists. */
  readonly shards: { readonly open: number; readonly total: number } | undefined
  /** Why DescribeStream could not be read, when it could not. */
  readonly error: string | undefined
}

/** The runner's own report (`status.json`), with its age when read. */
export interface RunnerStatus {
  readonly pid: number
  readonly startedAt: string
  readonly updatedAt: string
  readonly ageMillis: number
  readonly batches: number
  readonly records: number
  readonly onFailure: number
}

/** The local target's mapping: the runner process, its mapping file and its status file. */
export interface LocalRunner {
  readonly _tag: "LocalRunner"
  /** The pid in `runner.pid` when that process is alive. */
  readonly pid: number | undefined
  /** The stream `mapping.json` says the runner reads; `undefined` before the first provision. */
  readonly streamArn: string | undefined
  readonly status: RunnerStatus | undefined
  /** The status file is older than {@link STALE_AFTER_MILLIS} (the runner rewrites it every second). */
  readonly stale: boolean
}

/** One event source mapping of the function on a stream of the transactions table. */
export interface AwsMappingEntry {
  readonly uuid: string
  readonly eventSourceArn: string
  /** It reads the table's current stream (the others read a stream that was replaced). */
  readonly current: boolean
  readonly state: string
  readonly stateTransitionReason: string | undefined
  /** `OK`, `PROBLEM: …`, or `No records processed`, as Lambda says it. */
  readonly lastProcessingResult: string | undefined
  readonly batchSize: number | undefined
  readonly onFailureDestination: string | undefined
}

/** The AWS target's mapping: the function and its mappings from the transactions table's streams. */
export interface AwsMapping {
  readonly _tag: "AwsMapping"
  readonly functionName: string
  /** `undefined` when there is no function of that name. */
  readonly function: { readonly runtime: string | undefined; readonly state: string | undefined } | undefined
  readonly mappings: ReadonlyArray<AwsMappingEntry>
  readonly error: string | undefined
}

/**
 * How far behind the mapping is. Locally it is measured on the stream: the records past each shard's
 * checkpoint that pass the mapping's filter, and the age of the oldest. DynamoDB Local stamps a record's
 * creation time to the minute, so that age is an upper bound, up to `resolutionMillis` too high.
 */
export type Lag =
  | {
    readonly _tag: "Measured"
    readonly waiting: number
    /** More were waiting than status reads ({@link MAX_LAG_PAGES} pages per shard). */
    readonly capped: boolean
    readonly oldestAgeMillis: number | undefined
    readonly resolutionMillis: number
  }
  | { readonly _tag: "Unavailable"; readonly reason: string }

/** Records given up on (retries exhausted, too old): the local on-failure file, or where AWS sends them. */
export type OnFailureReport =
  | { readonly _tag: "Counted"; readonly records: number; readonly batches: number; readonly file: string }
  | { readonly _tag: "Destination"; readonly arn: string }
  | { readonly _tag: "NoDestination" }
  | { readonly _tag: "Unavailable"; readonly reason: string }

export type Count = { readonly _tag: "Counted"; readonly count: number } | { readonly _tag: "Unavailable"; readonly reason: string }

export interface Report {
  readonly target: "local" | "aws"
  readonly generatedAt: string
  /** The DynamoDB endpoint the report was read from. */
  readonly endpoint: string
  /** The local stack's folder (`DYNA_HOME`), locally. */
  readonly home: string | undefined
  /** On AWS: the region in use and the account (read off the transactions table's ARN). */
  readonly region: string | undefined
  readonly account: string | undefined
  readonly tables: ReadonlyArray<TableReport>
  readonly stream: StreamReport
  readonly mapping: LocalRunner | AwsMapping
  readonly lag: Lag
  /** Items in the quarantine table (a Scan, so exact on either target). */
  readonly quarantined: Count
  readonly onFailure: OnFailureReport
  /** CustProfile items whose TotalTnValue is at least `Elite.THRESHOLD_DOLLARS` (a filtered Scan). */
  readonly elite: Count
  /** What needs someone's attention, each with what to do; empty when all is well. */
  readonly attention: ReadonlyArray<string>
}

/** The runner rewrites its status file every second: a report older than this means it is stuck or gone. */
export const STALE_AFTER_MILLIS = 5_000

/** DynamoDB Local stamps `ApproximateCreationDateTime` to the minute (AWS to the second). */
export const LOCAL_STAMP_RESOLUTION_MILLIS = 60_000

/** Records past the checkpoint that have certainly waited this long mean the runner is not keeping up. */
export const STUCK_AFTER_MILLIS = 60_000

/** How many `GetRecords` pages (of up to 1,000 records) status reads per shard to measure the lag. */
export const MAX_LAG_PAGES = 10

// ---------------------------------------------------------------------------------------------------
// What needs attention: pure, over the facts.

/** A report before its attention list is worked out. */
export type Facts = Omit<Report, "attention">

const provisionHint = (target: Report["target"]) => (target === "local" ? "run `pnpm provision`" : "run `pnpm provision --target aws`")

/** The problems in the facts, each a sentence ending in what to do. */
export const attentionOf = (f: Facts): ReadonlyArray<string> => {
  const fix = provisionHint(f.target)
  const out: Array<string> = []
  for (const t of f.tables) if (!t.exists) out.push(`table ${t.name} does not exist — ${fix}`)
  const transactions = f.tables.find((t) => t.role === "transactions")
  if (transactions?.exists === true) {
    if (!f.stream.enabled) out.push(`${f.stream.table} has no stream — ${fix}`)
    else if (f.stream.viewType !== "NEW_IMAGE" && f.stream.viewType !== "NEW_AND_OLD_IMAGES") {
      out.push(`the stream on ${f.stream.table} carries ${f.stream.viewType ?? "no"} images, not new images — ${fix}`)
    } else if (f.stream.error !== undefined) out.push(`the stream cannot be described: ${f.stream.error}`)
    else if (f.stream.status !== undefined && f.stream.status !== "ENABLED") out.push(`the stream is ${f.stream.status}`)
  }
  const m = f.mapping
  if (m._tag === "LocalRunner") {
    if (m.pid === undefined) out.push(`the local runner is not running, so nothing reads the stream — ${fix}`)
    else if (m.status === undefined) out.push(`the local runner (pid ${m.pid}) has written no status — see \`pnpm local:logs\``)
    else if (m.stale) {
      out.push(`the local runner (pid ${m.pid}) has not reported for ${duration(m.status.ageMillis)} — see \`pnpm local:logs\``)
    }
    if (m.streamArn !== undefined && f.stream.arn !== undefined && m.streamArn !== f.stream.arn) {
      out.push(`the local runner reads a replaced stream (${m.streamArn}) — ${fix}`)
    }
  } else {
    if (m.error !== undefined) out.push(`the function and its mapping cannot be read: ${m.error}`)
    else if (m.function === undefined) out.push(`function ${m.functionName} does not exist — ${fix}`)
    else {
      const current = m.mappings.filter((e) => e.current)
      if (current.length === 0 && f.stream.arn !== undefined) out.push(`no event source mapping from the stream to ${m.functionName} — ${fix}`)
      for (const e of current) {
        const why = e.stateTransitionReason === undefined ? "" : ` (${e.stateTransitionReason})`
        if (e.state !== "Enabled") out.push(`event source mapping ${e.uuid} is ${e.state}${why} — ${fix}`)
        if (e.lastProcessingResult?.startsWith("PROBLEM") === true) {
          out.push(`event source mapping ${e.uuid} reports ${e.lastProcessingResult} — check the function's role can read the stream`)
        }
      }
      const stale = m.mappings.filter((e) => !e.current)
      if (stale.length > 0) out.push(`${stale.length} mapping(s) of ${m.functionName} read a replaced stream — ${fix}`)
    }
  }
  if (f.lag._tag === "Measured" && f.lag.oldestAgeMillis !== undefined) {
    const certainly = f.lag.oldestAgeMillis - f.lag.resolutionMillis
    if (certainly >= STUCK_AFTER_MILLIS) {
      out.push(`records have waited over ${duration(certainly)} on the stream — see \`pnpm local:logs\``)
    }
  }
  return out
}

/** The report, with what needs attention worked out from the facts. */
export const make = (facts: Facts): Report => ({ ...facts, attention: attentionOf(facts) })

// ---------------------------------------------------------------------------------------------------
// The screen: pure.

const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })

/** `850 ms`, `12 s`, `4 min`, `2 h 05 min`. */
export const duration = (millis: number): string => {
  const ms = Math.max(0, Math.round(millis))
  if (ms < 1000) return `${ms} ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`
}

const plural = (n: number, one: string, many = `${one}s`) => `${whole.format(n)} ${n === 1 ? one : many}`

const row = (label: string, text: string) => `${label.padEnd(13)}${text}`

const countText = (c: Count, unit: string) => (c._tag === "Counted" ? `${whole.format(c.count)} ${unit}` : `unknown (${c.reason})`)

const tablesText = (tables: ReadonlyArray<TableReport>) => {
  const each = tables.map((t) =>
    !t.exists ? `${t.name} missing` : `${t.name} ${t.itemCount === undefined ? "?" : `${t.approximate ? "≈" : ""}${whole.format(t.itemCount)}`}`
  )
  const approx = tables.some((t) => t.exists && t.approximate) ? " (item counts approx.: AWS refreshes them about every 6 h)" : ""
  return `${each.join(" · ")}${approx}`
}

const streamText = (s: StreamReport) => {
  if (!s.enabled) return `${s.table}: no stream`
  const shards = s.shards === undefined
    ? []
    : [s.shards.open === s.shards.total ? plural(s.shards.total, "shard") : `${plural(s.shards.open, "open shard")} of ${s.shards.total}`]
  const parts = [s.viewType ?? "?", s.error === undefined ? s.status ?? "?" : `cannot be described (${s.error})`, ...shards]
  return `${s.table} ${parts.join(", ")}`
}

const localMappingText = (m: LocalRunner) => {
  const st = m.status
  const delivered = st === undefined ? "" : `${plural(st.batches, "batch", "batches")}, ${plural(st.records, "record")} delivered`
  if (m.pid === undefined) {
    return st === undefined ? "local runner not running" : `local runner not running (last report ${duration(st.ageMillis)} ago: ${delivered})`
  }
  if (st === undefined) return `local runner pid ${m.pid}, no status written yet`
  return `local runner pid ${m.pid}, ${m.stale ? "not reporting" : "running"}; ${delivered}; status ${duration(st.ageMillis)} old`
}

const awsMappingText = (m: AwsMapping): ReadonlyArray<string> => {
  if (m.error !== undefined) return [row("Mapping", `cannot be read: ${m.error}`)]
  if (m.function === undefined) return [row("Function", `${m.functionName} missing`), row("Mapping", "none")]
  const fn = row("Function", `${m.functionName} ${[m.function.runtime ?? "?", m.function.state ?? "?"].join(", ")}`)
  if (m.mappings.length === 0) return [fn, row("Mapping", "none on this table's stream")]
  return [
    fn,
    ...m.mappings.map((e, i) => {
      const why = e.stateTransitionReason === undefined ? "" : ` (${e.stateTransitionReason})`
      const details = [
        `${e.uuid} ${e.state}${why}`,
        `last result ${e.lastProcessingResult ?? "none yet"}`,
        ...(e.batchSize === undefined ? [] : [`batch size ${e.batchSize}`]),
        ...(e.current ? [] : ["on a replaced stream"])
      ]
      return row(i === 0 ? "Mapping" : "", details.join(", "))
    })
  ]
}

const lagText = (lag: Lag) => {
  if (lag._tag === "Unavailable") return lag.reason
  if (lag.waiting === 0) return "0 ms (caught up)"
  const waiting = `${lag.capped ? "over " : ""}${plural(lag.waiting, "record")} waiting`
  if (lag.oldestAgeMillis === undefined) return waiting
  return lag.resolutionMillis > 1000
    ? `up to ${duration(lag.oldestAgeMillis)} (${waiting}; DynamoDB Local stamps records to the minute)`
    : `${duration(lag.oldestAgeMillis)} (${waiting})`
}

const onFailureText = (o: OnFailureReport) => {
  switch (o._tag) {
    case "Counted":
      return o.records === 0 ? "0 record(s)" : `${whole.format(o.records)} record(s) in ${plural(o.batches, "batch", "batches")} (${o.file})`
    case "Destination":
      return `sent to ${o.arn}`
    case "NoDestination":
      return "no destination configured (records given up on are dropped)"
    case "Unavailable":
      return `unknown (${o.reason})`
  }
}

/** Where the report was read, for its first line. */
const whereText = (r: Report) =>
  r.target === "local"
    ? `local (DynamoDB Local at ${r.endpoint})`
    : `aws (${[...(r.account === undefined ? [] : [`account ${r.account}`]), r.region ?? "region unknown"].join(", ")})`

/** The screen: one line per part of the deployment, then one per problem; without the summary. */
export const render = (r: Report): string =>
  [
    `Dyna Elite status — ${whereText(r)}`,
    row("Tables", tablesText(r.tables)),
    row("Stream", streamText(r.stream)),
    ...(r.mapping._tag === "LocalRunner" ? [row("Mapping", localMappingText(r.mapping))] : awsMappingText(r.mapping)),
    row("Lag", lagText(r.lag)),
    row("Quarantined", `${countText(r.quarantined, "record(s)")}   On-failure ${onFailureText(r.onFailure)}`),
    row("Elite", countText(r.elite, "customer(s)")),
    ...r.attention.map((a) => row("Attention", a))
  ].join("\n")

/** The last line: `OK: …` with the headline numbers, or `ATTENTION: …` with every problem. */
export const summary = (r: Report): string => {
  if (r.attention.length > 0) return `ATTENTION: ${r.attention.join("; ")}.`
  const reading = r.mapping._tag === "LocalRunner"
    ? "runner running"
    : `mapping ${r.mapping.mappings.find((e) => e.current)?.state ?? "?"}`
  const lag = r.lag._tag === "Measured"
    ? r.lag.waiting === 0 ? "lag 0 ms" : `${plural(r.lag.waiting, "record")} waiting`
    : "lag: see IteratorAge in CloudWatch"
  const givenUp = r.onFailure._tag === "Counted" && r.onFailure.records > 0 ? [`${whole.format(r.onFailure.records)} given up on`] : []
  const elite = r.elite._tag === "Counted" ? `${whole.format(r.elite.count)} Elite` : "Elite count unknown"
  const quarantined = r.quarantined._tag === "Counted" ? `${whole.format(r.quarantined.count)} quarantined` : "quarantine unknown"
  return `OK: ${[reading, lag, elite, quarantined, ...givenUp].join(", ")}.`
}

// ---------------------------------------------------------------------------------------------------
// Gathering.

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
      mapping?.settings.filterPatterns ?? Deployment.mapping.filterPatterns,
      c.now
    ),
    (reason): Lag => ({ _tag: "Unavailable", reason })
  )
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
      stale: status !== undefined && !(status.ageMillis <= STALE_AFTER_MILLIS)
    },
    lag,
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
    quarantined: c.quarantined,
    onFailure: destination === undefined ? { _tag: "NoDestination" } : { _tag: "Destination", arn: destination },
    elite: c.elite
  })
})
