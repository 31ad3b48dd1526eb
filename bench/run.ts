/**
 * `pnpm bench`: each benchmark in a process of its own on a fresh in-memory DynamoDB Local, one table of
 * ratios on stdout, and `bench/results.json` (or `--out FILE`). `BENCH_SIZE=smoke` runs each at a tiny
 * size (what CI runs, in scripts/test/bench.test.ts); `--only NAME` runs one (cost, latency, throughput,
 * artifact, backfill, hotcustomer, scaling).
 */
import { scopedInMemory } from "@dyna/tools/local/DynamoDbLocal"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import type { Bench, Row, Size } from "./Row.js"

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

const benches: Record<string, () => Promise<{ readonly bench: Bench }>> = {
  cost: () => import("./rows/cost.js"),
  latency: () => import("./rows/latency.js"),
  throughput: () => import("./rows/throughput.js"),
  artifact: () => import("./rows/artifact.js"),
  backfill: () => import("./rows/backfill.js"),
  hotcustomer: () => import("./rows/hotcustomer.js"),
  scaling: () => import("./rows/scaling.js")
}

const { values } = parseArgs({
  options: {
    only: { type: "string", multiple: true },
    out: { type: "string" },
    // Internal: the rows measured before, for a benchmark run in a process of its own.
    earlier: { type: "string" },
    help: { type: "boolean", short: "h" }
  }
})
if (values.help === true) {
  console.log(`Usage: pnpm bench [--only ${Object.keys(benches).join("|")}]... [--out FILE]

Measures Dyna Elite side by side with what a user would otherwise run, on a fresh in-memory DynamoDB
Local, and prints one table of ratios against the targets (also written to bench/results.json, or to
--out FILE). With more than one benchmark, each runs in a node process of its own, so none measures
in the heap, timers or DynamoDB Local an earlier one left behind. BENCH_SIZE=smoke runs every
benchmark at a tiny size. Exit code 1 when a target is missed.`)
  process.exit(0)
}
const selected = values.only ?? Object.keys(benches)
const unknown = selected.filter((name) => !(name in benches))
if (unknown.length > 0) {
  console.error(`error: unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(benches).join(", ")}`)
  process.exit(2)
}
const size: Size = process.env.BENCH_SIZE === "smoke" ? "smoke" : "full"

const fixed = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(3))

const table = (rows: ReadonlyArray<Row>) => {
  const header = ["benchmark", "unit", "Dyna Elite", "baseline", "baseline value", "ratio", "target", "met"]
  const lines = rows.map((r) => [r.name, r.unit, fixed(r.dyna), r.baselineName, fixed(r.baseline), `${r.ratio.toFixed(2)}×`, r.target, r.met ? "yes" : "NO"])
  const cells = [header, ...lines]
  const widths = header.map((_, i) => Math.max(...cells.map((c) => (c[i] ?? "").length)))
  const format = (c: ReadonlyArray<string>) => `| ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" | ")} |`
  return [format(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(format)].join("\n")
}

// The handlers run in this process print one EMF metrics line per invocation on stdout (what Lambda
// ships to CloudWatch). Here they are counted, not printed, so stdout stays the table.
let metricsLines = 0
const print = console.log.bind(console)
console.log = (...args: Array<unknown>) => {
  if (typeof args[0] === "string" && args[0].startsWith("{\"_aws\":")) metricsLines++
  else print(...args)
}

const readRows = (file: string): ReadonlyArray<Row> => (JSON.parse(readFileSync(file, "utf8")) as { readonly rows: ReadonlyArray<Row> }).rows

/** The benchmarks in this process, one after another, on one DynamoDB Local. */
const inProcess = (names: ReadonlyArray<string>, earlier: ReadonlyArray<Row>) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const { endpoint } = yield* scopedInMemory
    const all: Array<Row> = []
    for (const name of names) {
      const started = performance.now()
      console.error(`— ${name} (${size})`)
      const { bench } = yield* Effect.promise(() => benches[name]!())
      const measured = yield* Effect.promise(() => bench({ endpoint, size, log: (line) => console.error(`  ${line}`), earlier: [...earlier, ...all] }))
      all.push(...measured)
      console.error(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    }
    return all
  })))

/** Each benchmark in a node process of its own (this script with `--only`), handed the rows measured before it. */
const isolated = (names: ReadonlyArray<string>) => {
  const dir = mkdtempSync(join(tmpdir(), "dyna-bench-"))
  try {
    const all: Array<Row> = []
    for (const name of names) {
      const earlier = join(dir, "earlier.json")
      const out = join(dir, `${name}.json`)
      writeFileSync(earlier, JSON.stringify({ rows: all }))
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--only", name, "--out", out, "--earlier", earlier], {
        stdio: ["ignore", "ignore", "inherit"]
      })
      // Exit code 1 is also a missed target: then the rows are there all the same.
      if (!existsSync(out)) throw new Error(`benchmark ${name} failed (exit ${child.status ?? child.signal}) before writing its rows`)
      all.push(...readRows(out))
    }
    return all
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const rows = selected.length > 1 ? isolated(selected) : await inProcess(selected, values.earlier === undefined ? [] : readRows(values.earlier))

console.error(`  (${metricsLines} EMF metrics lines from the handlers left out of stdout)`)
console.log(table(rows))
for (const r of rows.filter((r) => r.note !== undefined)) console.log(`- ${r.name}: ${r.note}`)
const file = values.out ?? fileURLToPath(new URL("results.json", import.meta.url))
writeFileSync(file, `${JSON.stringify({ measuredAt: new Date().toISOString(), size, node: process.version, rows }, null, 2)}\n`)
console.log(`\nwritten: ${values.out ?? "bench/results.json"} (${rows.filter((r) => r.met).length} of ${rows.length} targets met)`)
if (rows.some((r) => !r.met)) process.exit(1)
