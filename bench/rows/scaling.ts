/**
 * Row 7: beyond one machine, on paper. No measurement of its own: `bench/scaling/Model.ts` applied to the
 * figures other rows measured (row 1's write and read units, row 3's drain rates, row 4's cold init, row
 * 6's hot customer), so it runs in milliseconds. Each figure is taken from this run's own rows when it
 * measured them at full size (`pnpm bench` runs row 7 last), else from `bench/results.json` when that file
 * holds a full-size run of its row, and otherwise from `bench/scaling/measured.json`, the full run
 * SCALING.md quotes. `BENCH_SCALING_FROM=FILE` reads another results file instead;
 * `BENCH_SCALING_SNAPSHOT=1` writes the figures it took into `bench/scaling/measured.json`.
 *
 * The rows compare Dyna Elite with the Powertools baseline under the same model; each target states the
 * assumption the model's figure rests on. The full tables go to stderr, as SCALING.md shows them.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { Bench, Row } from "../Row.js"
import { atLeast, atMost } from "../Row.js"
import * as Model from "../scaling/Model.js"

const resultsFile = process.env.BENCH_SCALING_FROM ?? fileURLToPath(new URL("../results.json", import.meta.url))
const snapshotFile = fileURLToPath(new URL("../scaling/measured.json", import.meta.url))

interface Results {
  readonly measuredAt: string
  readonly size: string
  readonly rows: ReadonlyArray<Row>
}

/** One measured figure, with where it came from. */
interface Figure {
  readonly value: number
  readonly source: string
}

/** Every figure the model needs, by name. */
const FIGURES = [
  "dyna.wcu.ten",
  "dyna.wcu.hundred",
  "dyna.wcu.hot",
  "dyna.rcu.ten",
  "dyna.rcu.hundred",
  "dyna.rcu.hot",
  "dyna.ms.ten",
  "dyna.ms.hundred",
  "dyna.ms.hot",
  "dyna.coldInitMs",
  "powertools.wcu.ten",
  "powertools.wcu.hundred",
  "powertools.wcu.hot",
  "powertools.rcu",
  "powertools.ms.ten",
  "powertools.ms.hundred",
  "powertools.ms.hot"
] as const
type FigureName = typeof FIGURES[number]

/**
 * Figures the model can do without: the Powertools handler's drain rates behind the runner (row 3), in
 * whose absence its handler time for one customer (row 6) stands in; its time is per record, whatever the mix.
 */
const OPTIONAL: ReadonlyArray<FigureName> = ["powertools.ms.ten", "powertools.ms.hundred"]

const number = (text: string | undefined, pattern: RegExp): number | undefined => {
  const match = text === undefined ? null : pattern.exec(text)
  return match?.[1] === undefined ? undefined : Number(match[1])
}

/** The figures a full-size results file holds, each with its row's name. */
export const extract = (results: Results): Partial<Record<FigureName, Figure>> => {
  const out: Partial<Record<FigureName, Figure>> = {}
  if (results.size !== "full") return out
  const at = `(${results.measuredAt.slice(0, 10)})`
  const put = (name: FigureName, value: number | undefined, row: Row) => {
    // Read units may be none (a handler that writes blind); write units and times never are.
    const least = name.includes(".rcu") ? 0 : Number.MIN_VALUE
    if (value !== undefined && Number.isFinite(value) && value >= least && out[name] === undefined) out[name] = { value, source: `${row.name} ${at}` }
  }
  // Row 6 at its largest point: the hottest customer measured.
  let hottest: { readonly row: Row; readonly purchases: number } | undefined
  for (const row of results.rows) {
    const mix = /\(10 customers/.test(row.name) ? "ten" : /\(100 customers/.test(row.name) ? "hundred" : undefined
    if (row.name.startsWith("1.") && mix !== undefined) {
      if (/naive/i.test(row.baselineName)) {
        put(`dyna.wcu.${mix}`, row.dyna, row)
        put(`dyna.rcu.${mix}`, number(row.note, /RCU\/tx:\s*Dyna Elite ([\d.]+)/), row)
      }
      if (/powertools/i.test(row.baselineName)) {
        put(`powertools.wcu.${mix}`, row.baseline, row)
        if (mix === "ten") put("powertools.rcu", number(row.note, /RCU\/tx:[^;]*?Powertools[^\d;]*([\d.]+)/i), row)
      }
    }
    // Row 3: the pipeline's drain rate on the local stack at the deployment's factor 1, transactions a
    // second: ms per batch of 100. Its Powertools baseline, when it has one, drains behind the same runner.
    if (row.name.startsWith("3.") && mix !== undefined && !/factor (?!1\))/.test(row.name)) {
      put(`dyna.ms.${mix}`, (Model.BATCH * 1000) / row.dyna, row)
      if (/powertools/i.test(row.baselineName)) put(`powertools.ms.${mix}`, (Model.BATCH * 1000) / row.baseline, row)
    }
    if (row.name.startsWith("4.") && /cold init/.test(row.name)) put("dyna.coldInitMs", row.dyna, row)
    const point = number(/^6\. hot customer: WCU per purchase, ([\d,]+) in the window/.exec(row.name)?.[1]?.replaceAll(",", ""), /^(\d+)$/)
    if (point !== undefined && (hottest === undefined || point > hottest.purchases)) hottest = { row, purchases: point }
  }
  if (hottest !== undefined) {
    const { row } = hottest
    put("dyna.wcu.hot", row.dyna, row)
    put("powertools.wcu.hot", row.baseline, row)
    put("dyna.rcu.hot", number(row.note, /Dyna Elite:[^;]*?RCU\/purchase ([\d.]+)/), row)
    put("dyna.ms.hot", number(row.note, /Dyna Elite: [\d.]+ calls and ([\d.]+) ms per batch/), row)
    put("powertools.ms.hot", number(row.note, /; Powertools.*? [\d.]+ calls and ([\d.]+) ms per batch/), row)
  }
  return out
}

const read = (file: string): Results | undefined => {
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Results
  } catch {
    return undefined
  }
}

/** The figures: this run's, else the results file's, else the snapshot's; which are missing from all. */
export const gather = (run: Results) => {
  const fresh = (() => {
    const results = read(resultsFile)
    return { ...(results === undefined ? {} : extract(results)), ...extract(run) }
  })()
  const snapshot = (() => {
    if (!existsSync(snapshotFile)) return {}
    return (JSON.parse(readFileSync(snapshotFile, "utf8")) as { figures: Partial<Record<FigureName, Figure>> }).figures
  })()
  const figures: Partial<Record<FigureName, Figure & { readonly from: "results" | "snapshot" }>> = {}
  for (const name of FIGURES) {
    const f = fresh[name]
    const s = snapshot[name]
    if (f !== undefined) figures[name] = { ...f, from: "results" }
    else if (s !== undefined) figures[name] = { ...s, from: "snapshot" }
  }
  return { figures, missing: FIGURES.filter((name) => figures[name] === undefined && !OPTIONAL.includes(name)) }
}

/** The model's inputs from the figures. */
export const inputs = (figures: Partial<Record<FigureName, Figure>>): Model.Inputs => {
  const v = (name: FigureName) => figures[name]?.value ?? Number.NaN
  return {
    dyna: {
      wcu: { ten: v("dyna.wcu.ten"), hundred: v("dyna.wcu.hundred"), hot: v("dyna.wcu.hot") },
      rcu: { ten: v("dyna.rcu.ten"), hundred: v("dyna.rcu.hundred"), hot: v("dyna.rcu.hot") },
      msPerBatch: { ten: v("dyna.ms.ten"), hundred: v("dyna.ms.hundred"), hot: v("dyna.ms.hot") },
      // Conservative: every write unit of the hot customer's batch counted against its profile's partition
      // (about half are page items, in CustEliteEvents, a table of their own).
      hotProfileWcu: v("dyna.wcu.hot")
    },
    powertools: {
      wcu: { ten: v("powertools.wcu.ten"), hundred: v("powertools.wcu.hundred"), hot: v("powertools.wcu.hot") },
      rcu: { ten: v("powertools.rcu"), hundred: v("powertools.rcu"), hot: v("powertools.rcu") },
      msPerBatch: {
        ten: figures["powertools.ms.ten"]?.value ?? v("powertools.ms.hot"),
        hundred: figures["powertools.ms.hundred"]?.value ?? v("powertools.ms.hot"),
        hot: v("powertools.ms.hot")
      },
      // One UpdateItem of the profile (under 1 KB) per record; its idempotency records are items of their own.
      hotProfileWcu: 1
    },
    coldInitMs: v("dyna.coldInitMs"),
    sources: FIGURES.map((name) =>
      `${name} ${figures[name]?.value.toPrecision(4) ?? "—"}: ${figures[name]?.source ?? "not measured; powertools.ms.hot stands in"}`
    )
  }
}

const n0 = (n: number) => Math.round(n).toLocaleString("en")

/** Rows in the table's format: Dyna Elite and the Powertools baseline under the same model. */
export const rows = (i: Model.Inputs): Array<Row> => {
  const { dyna, powertools } = i
  const out: Array<Row> = []
  const assuming = (row: Row, assumption: string): Row => ({ ...row, target: `${row.target} if ${assumption}` })
  const lane = `${Model.BATCH}/batch, 1 batch per lane`
  for (const [shards, factor] of [[1, 1], [4, 10]] as const) {
    const d = Model.sustained(dyna, "ten", shards, factor)
    const p = Model.sustained(powertools, "ten", shards, factor)
    out.push(assuming(atLeast({
      name: `7. scaling: purchases/s, ${shards} shard${shards === 1 ? "" : "s"} × factor ${factor} (10 customers per batch)`,
      unit: "purchases/s (model)",
      dyna: d.rate,
      baselineName: "Powertools batch + idempotency",
      baseline: p.rate,
      note: `${Model.lanes(shards, factor)} lane${Model.lanes(shards, factor) === 1 ? "" : "s"} × ${Model.BATCH} purchases per ${dyna.msPerBatch.ten.toFixed(0)} ms batch ` +
        `(Powertools ${powertools.msPerBatch.ten.toFixed(0)} ms), bound by ${d.boundBy}; ` +
        `${n0(d.wcuPerSecond)} vs ${n0(p.wcuPerSecond)} WCU/s; warm invocations on this machine's DynamoDB Local`
    }, 1), lane))
  }
  for (const mix of ["ten", "hundred"] as const) {
    const d = Model.costPerMillion(dyna, mix)
    const p = Model.costPerMillion(powertools, mix)
    out.push(assuming(atMost({
      name: `7. scaling: $ per million purchases (${Model.mixLabel[mix]})`,
      unit: "USD (model)",
      dyna: d.total,
      baselineName: "Powertools batch + idempotency",
      baseline: p.total,
      note: `DynamoDB on-demand ${Model.aws.region}: $${Model.aws.writePerMillion}/M WRU, $${Model.aws.readPerMillion}/M RRU ` +
        `(since ${Model.aws.pricesSince}, read ${Model.aws.pricesRead}); Lambda $${Model.aws.lambdaPerMillionRequests}/M invocations, ` +
        `$${Model.aws.lambdaPerGbSecond}/GB-s at ${Model.aws.memoryMb} MB. Dyna Elite: writes $${d.writes.toFixed(4)}, ` +
        `reads $${d.reads.toFixed(4)}, Lambda $${d.lambda.toFixed(4)}; Powertools: writes $${p.writes.toFixed(3)}, ` +
        `reads $${p.reads.toFixed(3)}, Lambda $${p.lambda.toFixed(4)}; the shop's own PutItem ($0.625) is the same for both and left out`
    }, 1), `us-east-1 on-demand prices`))
  }
  for (const factor of [1, Model.aws.maxFactor]) {
    const d = Model.hotCustomer(dyna, factor)
    const p = Model.hotCustomer(powertools, factor)
    out.push(assuming(atLeast({
      name: `7. scaling: one hot customer's max purchases/s, factor ${factor}`,
      unit: "purchases/s (model)",
      dyna: d.rate,
      baselineName: "Powertools batch + idempotency",
      baseline: p.rate,
      note: `Dyna Elite bound by the ${d.boundBy} (${d.caps.map((c) => `${c.name} ${n0(c.rate)}`).join(", ")}); ` +
        `Powertools bound by the ${p.boundBy} (${p.caps.map((c) => `${c.name} ${n0(c.rate)}`).join(", ")})`
    }, 1), `${Model.aws.partitionWrites} WCU/s per partition`))
  }
  return out
}

export const bench: Bench = async ({ log, size, earlier }) => {
  const { figures, missing } = gather({ measuredAt: new Date().toISOString(), size, rows: earlier })
  if (missing.length > 0) throw new Error(`scaling: no measured ${missing.join(", ")} in ${resultsFile} (full size) or ${snapshotFile}`)
  const model = inputs(figures)
  const count = (from: "results" | "snapshot") => Object.values(figures).filter((f) => f.from === from).length
  log(`figures: ${count("results")} from this run's or ${resultsFile}'s full-size rows, ${count("snapshot")} from ${snapshotFile}`)
  for (const line of model.sources) log(`  ${line}`)
  if (process.env.BENCH_SCALING_SNAPSHOT === "1") {
    const plain = Object.fromEntries(Object.entries(figures).map(([name, f]) => [name, { value: f.value, source: f.source }]))
    writeFileSync(snapshotFile, `${JSON.stringify({ writtenAt: new Date().toISOString(), figures: plain }, null, 2)}\n`)
    log(`written: ${snapshotFile}`)
  }
  for (const line of Model.markdown(model).split("\n")) log(line)
  return rows(model)
}
