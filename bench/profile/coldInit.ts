/**
 * Where a cold start's CPU goes, Dyna Elite's handler beside the plain-SDK one: both bundled with the
 * function's esbuild options but unminified (so esbuild's `// path` comments say which package each line
 * came from), each started fresh `--runs` times against DynamoDB Local with `--cpu-prof`, and the
 * samples summed by package. The evidence behind row 4's cold-init figure; `pnpm bench:cold-profile`.
 */
import * as Deployment from "@dyna/aws/Deployment"
import { options } from "@dyna/tools/provision/Bundle"
import { build } from "esbuild"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as FreshLocal from "../support/FreshLocal.js"
import * as LocalTables from "../support/LocalTables.js"

const { values } = parseArgs({ options: { runs: { type: "string", default: "10" }, help: { type: "boolean" }, keep: { type: "boolean" } } })
if (values.help === true) {
  console.log(`Usage: pnpm bench:cold-profile [--runs N] [--keep]
Bundles the handler and the plain-SDK baseline unminified, starts each N times (default 10) against a
fresh DynamoDB Local with --cpu-prof, and prints the CPU per cold start by package. --keep leaves the
bundles and .cpuprofile files in the printed folder (open them in Chrome DevTools).`)
  process.exit(0)
}
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`error: --runs "${values.runs}": expected a whole number from 1`)
  process.exit(2)
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const entries = {
  "Dyna Elite": { contents: `export { handler } from "@dyna/aws/Handler"`, resolveDir: here("../../packages/aws") },
  "plain SDK": { contents: `export { handler } from "./plainHandler.ts"`, resolveDir: here("../baselines") }
} as const
type Name = keyof typeof entries

// As the bench's cold init runs a bundle: the acceptance event on stdin, `handler` called once.
const bootstrap = `import { readFileSync } from "node:fs"; import { pathToFileURL } from "node:url"
const event = JSON.parse(readFileSync(0, "utf8"))
const { handler } = await import(pathToFileURL(process.argv[1]).href)
await handler(event, { awsRequestId: "cold", functionName: "cold", getRemainingTimeInMillis: () => 60000 })
process.exit(0)`
const event = readFileSync(here("../../events/jam-task1.json"), "utf8")

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface Profile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: CallFrame }>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const pkgPattern = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//

/** The package each line of an unminified bundle came from, from esbuild's `// path` comments. */
const packageOfLines = (code: string): ReadonlyArray<string> => {
  let current = "esbuild's module wrappers"
  return code.split("\n").map((line) => {
    const path = /^\/\/ (\S+\.(?:[cm]?js|ts))$/.exec(line)?.[1]
    if (path !== undefined) {
      const pkg = pkgPattern.exec(path)?.[1]
      // Effect by module: which of its parts a cold start pays for.
      current = pkg === "effect" ? `effect/${path.slice(path.lastIndexOf("/effect/dist/") + "/effect/dist/".length)}` : pkg ?? "the handler's own code"
    }
    return current
  })
}

/** A sample's place: the bundle's package, Node's own code (its loader compiling the bundle, http), or V8's. */
const placeOf = (frame: CallFrame, bundle: string, lines: ReadonlyArray<string>): string | undefined => {
  if (frame.functionName === "(idle)") return undefined
  if (frame.url.endsWith(bundle)) {
    const pkg = lines[frame.lineNumber] ?? "?"
    return pkg.startsWith("@aws-sdk/") || pkg.startsWith("@smithy/") || pkg.startsWith("@aws/") ? "AWS SDK" : pkg
  }
  if (frame.url.startsWith("node:")) return frame.functionName === "compileSourceTextModule" ? "V8 compiling the bundle" : "Node's own code"
  return frame.functionName === "(garbage collector)" ? "garbage collection" : "V8 and native"
}

const dir = mkdtempSync(join(tmpdir(), "dyna-cold-"))
const bundles = new Map<Name, string>()
for (const name of Object.keys(entries) as Array<Name>) {
  const file = join(dir, `${name.replace(/\W+/g, "-")}.mjs`)
  const out = await build({ ...options, minify: false, outfile: file, stdin: { ...entries[name], loader: "ts" } })
  const code = out.outputFiles?.[0]?.text ?? ""
  writeFileSync(file, code)
  bundles.set(name, file)
}

await FreshLocal.run(async (endpoint) => {
  const { names } = await LocalTables.make(endpoint, "cold")
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    // Both handlers read their tables from these (the plain one only PROFILES_TABLE).
    ...Deployment.tableEnvironment(names)
  }
  // One unprofiled start each first (disk cache, DynamoDB Local's first requests), then alternating.
  for (let i = 0; i <= runs; i++) {
    for (const [name, file] of bundles) {
      const profiled = i === 0 ? [] : ["--cpu-prof", "--cpu-prof-interval", "100", "--cpu-prof-dir", `${file}.profiles`]
      const run = spawnSync(process.execPath, [...profiled, "--input-type=module", "-e", bootstrap, file], { env, input: event })
      if (run.status !== 0) throw new Error(`${name} failed (exit ${run.status}): ${run.stderr.toString("utf8")}`)
    }
  }
})

for (const [name, file] of bundles) {
  const lines = packageOfLines(readFileSync(file, "utf8"))
  const profiles = readdirSync(`${file}.profiles`).map((f) => JSON.parse(readFileSync(join(`${file}.profiles`, f), "utf8")) as Profile)
  const sums = new Map<string, number>()
  const effect = new Map<string, number>()
  for (const profile of profiles) {
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
    profile.samples.forEach((id, i) => {
      const frame = frames.get(id)
      const place = frame === undefined ? undefined : placeOf(frame, file, lines)
      if (place === undefined) return
      const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000 / profiles.length
      if (place.startsWith("effect/")) effect.set(place, (effect.get(place) ?? 0) + ms)
      const group = place.startsWith("effect/") ? "Effect" : place
      sums.set(group, (sums.get(group) ?? 0) + ms)
    })
  }
  const busy = [...sums.values()].reduce((a, b) => a + b, 0)
  console.log(`${name}: ${busy.toFixed(1)} ms of CPU per cold start (${profiles.length} start${profiles.length === 1 ? "" : "s"})`)
  for (const [place, ms] of [...sums].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= 0.5)) {
    const parts = place === "Effect" ? [...effect].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([m, t]) => `${m.slice("effect/".length)} ${t.toFixed(1)}`) : []
    console.log(`  ${ms.toFixed(1).padStart(6)} ms  ${place}${parts.length === 0 ? "" : ` (${parts.join(", ")})`}`)
  }
}
if (values.keep === true) console.log(`bundles and profiles kept in ${dir}`)
else rmSync(dir, { recursive: true, force: true })
