/**
 * What `pnpm status` prints: one screen on the report, a one-line summary, and each problem
 * `Attention` finds said as a sentence ending in what to do. Pure, over a gathered `Report`.
 */
import * as Attention from "@dyna/core/Attention"
import * as Format from "../Format.js"
import type { AwsMapping, Count, Facts, Lag, LastHour, LocalRunner, OnFailureReport, Report, StreamReport, TableReport } from "./StatusReport.js"

const provisionHint = (target: Report["target"]) => (target === "local" ? "run `pnpm provision`" : "run `pnpm provision --target aws`")

/** A problem as the screen and `--json` say it: what is wrong, then what to do about it. */
export const sentence = (p: Attention.Problem, target: Report["target"]): string => {
  const fix = provisionHint(target)
  switch (p._tag) {
    case "TableMissing":
      return `table ${p.table} does not exist — ${fix}`
    case "NoStream":
      return `${p.table} has no stream — ${fix}`
    case "NotNewImages":
      return `the stream on ${p.table} carries ${p.viewType ?? "no"} images, not new images — ${fix}`
    case "StreamUnreadable":
      return `the stream cannot be described: ${p.error}`
    case "StreamNotEnabled":
      return `the stream is ${p.status}`
    case "RunnerNotRunning":
      return `the local runner is not running, so nothing reads the stream — ${fix}`
    case "RunnerSilent":
      return `the local runner (pid ${p.pid}) has written no status — see \`pnpm local:logs\``
    case "RunnerStale":
      return `the local runner (pid ${p.pid}) has not reported for ${Format.duration(p.ageMillis)} — see \`pnpm local:logs\``
    case "RunnerOnReplacedStream":
      return `the local runner reads a replaced stream (${p.streamArn}) — ${fix}`
    case "MappingUnreadable":
      return `the function and its mapping cannot be read: ${p.error}`
    case "FunctionMissing":
      return `function ${p.functionName} does not exist — ${fix}`
    case "NoMapping":
      return `no event source mapping from the stream to ${p.functionName} — ${fix}`
    case "MappingNotEnabled":
      return `event source mapping ${p.uuid} is ${p.state}${p.reason === undefined ? "" : ` (${p.reason})`} — ${fix}`
    case "MappingFailing":
      return `event source mapping ${p.uuid} reports ${p.result} — check the function's role can read the stream`
    case "MappingsOnReplacedStream":
      return `${p.count} mapping(s) of ${p.functionName} read a replaced stream — ${fix}`
    case "RecordsWaiting":
      return `records have waited over ${Format.duration(p.certainlyMillis)} on the stream — see \`pnpm local:logs\``
  }
}

/** What needs attention in the facts, each as a sentence; empty when all is well. */
export const attention = (facts: Facts): ReadonlyArray<string> => Attention.of(facts).map((p) => sentence(p, facts.target))

const row = (label: string, text: string) => `${label.padEnd(13)}${text}`

const countText = (c: Count, unit: string) => (c._tag === "Counted" ? `${Format.number(c.count)} ${unit}` : `unknown (${c.reason})`)

const tablesText = (tables: ReadonlyArray<TableReport>) => {
  const each = tables.map((t) =>
    !t.exists ? `${t.name} missing` : `${t.name} ${t.itemCount === undefined ? "?" : `${t.approximate ? "≈" : ""}${Format.number(t.itemCount)}`}`
  )
  const approx = tables.some((t) => t.exists && t.approximate) ? " (item counts approx.: AWS refreshes them about every 6 h)" : ""
  return `${each.join(" · ")}${approx}`
}

const streamText = (s: StreamReport) => {
  if (!s.enabled) return `${s.table}: no stream`
  const shards = s.shards === undefined
    ? []
    : [s.shards.open === s.shards.total ? Format.count(s.shards.total, "shard") : `${Format.count(s.shards.open, "open shard")} of ${s.shards.total}`]
  const parts = [s.viewType ?? "?", s.error === undefined ? s.status ?? "?" : `cannot be described (${s.error})`, ...shards]
  return `${s.table} ${parts.join(", ")}`
}

const localMappingText = (m: LocalRunner) => {
  const st = m.status
  const delivered = st === undefined ? "" : `${Format.count(st.batches, "batch", "batches")}, ${Format.count(st.records, "record")} delivered`
  if (m.pid === undefined) {
    return st === undefined ? "local runner not running" : `local runner not running (last report ${Format.duration(st.ageMillis)} ago: ${delivered})`
  }
  if (st === undefined) return `local runner pid ${m.pid}, no status written yet`
  return `local runner pid ${m.pid}, ${m.stale ? "not reporting" : "running"}; ${delivered}; status ${Format.duration(st.ageMillis)} old`
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
  const waiting = `${lag.capped ? "over " : ""}${Format.count(lag.waiting, "record")} waiting`
  if (lag.oldestAgeMillis === undefined) return waiting
  return lag.resolutionMillis > 1000
    ? `up to ${Format.duration(lag.oldestAgeMillis)} (${waiting}; DynamoDB Local stamps records to the minute)`
    : `${Format.duration(lag.oldestAgeMillis)} (${waiting})`
}

const lastHourText = (h: LastHour) => {
  switch (h._tag) {
    case "Summed": {
      const t = h.totals
      if (t.batches === 0) return "no batches handled"
      return [
        `${Format.number(t.applied)} applied`,
        Format.count(t.duplicates, "duplicate"),
        `${Format.number(t.quarantined)} quarantined`,
        Format.count(t.promotions, "promotion"),
        `${Format.number(t.retried)} retried`
      ].join(", ") + ` in ${Format.count(t.batches, "batch", "batches")}`
    }
    case "InCloudWatch":
      return `see CloudWatch: namespace ${h.namespace}, FunctionName ${h.functionName}`
    case "Unavailable":
      return `unknown (${h.reason})`
  }
}

const onFailureText = (o: OnFailureReport) => {
  switch (o._tag) {
    case "Counted":
      return o.records === 0 ? "0 record(s)" : `${Format.number(o.records)} record(s) in ${Format.count(o.batches, "batch", "batches")} (${o.file})`
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
    row("Last hour", lastHourText(r.lastHour)),
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
    ? r.lag.waiting === 0 ? "lag 0 ms" : `${Format.count(r.lag.waiting, "record")} waiting`
    : "lag: see IteratorAge in CloudWatch"
  const givenUp = r.onFailure._tag === "Counted" && r.onFailure.records > 0 ? [`${Format.number(r.onFailure.records)} given up on`] : []
  const elite = r.elite._tag === "Counted" ? `${Format.number(r.elite.count)} Elite` : "Elite count unknown"
  const quarantined = r.quarantined._tag === "Counted" ? `${Format.number(r.quarantined.count)} quarantined` : "quarantine unknown"
  return `OK: ${[reading, lag, elite, quarantined, ...givenUp].join(", ")}.`
}
