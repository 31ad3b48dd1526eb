/**
 * Row 4: the Lambda artifact. The handler bundled as `Bundle.make` bundles it, beside a plain-SDK
 * handler doing the same job and the Powertools handler (batch, idempotency, parser, logger), both
 * built with the very same esbuild options: minified and gzipped size, cold init (a fresh `node`
 * process loading the bundle and answering the acceptance event against DynamoDB Local; the CPU time it
 * used until it answered, median of 15, is the figure, as it is less swayed by a busy machine than wall
 * time, which the note gives), and how much of the bundle is Effect, module by module, beside Effect's
 * own floor: the smallest programs (`baselines/effectFloor`) bundled the same way.
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb"
import * as Deployment from "@dyna/aws/Deployment"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as Bundle from "@dyna/tools/provision/Bundle"
import { ensureTable, eventsTable, profilesTable, rejectedTable, transactionsTable } from "@dyna/tools/provision/TableSteps"
import * as Powertools from "../baselines/powertools.js"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import { atMost, type Bench } from "../Row.js"

/** Against the plain-SDK handler, the floor: at most this much bigger, and this much more CPU time to answer cold. */
const SIZE_BOUND = 1.3
const COLD_BOUND = 1.2
/** Against the Powertools handler: no bigger, no slower to start. */
const POWERTOOLS_SIZE_BOUND = 1.0
const POWERTOOLS_COLD_BOUND = 1.0
/** Effect's own share of the bundle the issue allows, in KB. */
const EFFECT_BUDGET_KB = 80

const acceptanceEvent = readFileSync(fileURLToPath(new URL("../../events/jam-task1.json", import.meta.url)), "utf8")
const plainEntry = fileURLToPath(new URL("../baselines/plainHandler.ts", import.meta.url))
const powertoolsEntry = fileURLToPath(new URL("../baselines/powertools/handler.ts", import.meta.url))
/** Effect's floor, smallest first: the runtime alone; with one Schema decode; with a service, a layer and its settings decoded from the environment. */
const floorEntries = ["runtime", "schema", "services"].map((name) => ({
  name,
  entry: fileURLToPath(new URL(`../baselines/effectFloor/${name}.ts`, import.meta.url))
}))

// As the local Invoke runs a function: the event on stdin, `handler` called once with a Lambda context
// (the Powertools handler hands it to its logger and idempotency utility), the response on fd 3, with
// how long the import and the call took, measured inside the process.
const bootstrap = `
import { readFileSync, writeSync } from "node:fs"
import { pathToFileURL } from "node:url"
const event = JSON.parse(readFileSync(0, "utf8"))
const t0 = performance.now()
const { handler } = await import(pathToFileURL(process.argv[1]).href)
const t1 = performance.now()
const deadline = Date.now() + 60000
const context = {
  functionName: "cold-init", functionVersion: "$LATEST", memoryLimitInMB: "1024", awsRequestId: "cold-init",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:cold-init",
  getRemainingTimeInMillis: () => deadline - Date.now()
}
const response = (await handler(event, context)) ?? null
const cpu = process.cpuUsage()
writeSync(3, JSON.stringify({ response, load: t1 - t0, handle: performance.now() - t1, cpu: (cpu.user + cpu.system) / 1000 }))
process.exit(0)
`

interface ColdRun {
  /** From spawn to the response, as the row reports it. */
  readonly total: number
  /** Of which: importing the bundle, and handling the event. */
  readonly load: number
  readonly handle: number
  /** CPU time the process used until it answered: less swayed than wall time by a busy machine. */
  readonly cpu: number
}

/** Spawns `node` on `file`: how long until its handler answered the acceptance event. */
const coldInit = (file: string, env: Readonly<Record<string, string>>) =>
  new Promise<ColdRun>((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ["--input-type=module", "-e", bootstrap, file], { env, stdio: ["pipe", "pipe", "pipe", "pipe"] })
    const chunks: Array<Buffer> = []
    const logs: Array<Buffer> = []
    let answeredAt: number | undefined
    child.stdout?.on("data", (c: Buffer) => logs.push(c))
    child.stderr?.on("data", (c: Buffer) => logs.push(c))
    ;(child.stdio[3] as Readable).on("data", (c: Buffer) => {
      answeredAt ??= performance.now()
      chunks.push(c)
    })
    child.once("error", reject)
    child.once("close", (code) => {
      const written = Buffer.concat(chunks).toString("utf8")
      const out = written === "" ? undefined : (JSON.parse(written) as { response: unknown; load: number; handle: number; cpu: number })
      if (answeredAt === undefined || out === undefined || JSON.stringify(out.response) !== JSON.stringify({ batchItemFailures: [] })) {
        reject(new Error(`${file} (exit ${code}) answered ${written}:\n${Buffer.concat(logs).toString("utf8")}`))
      } else resolve({ total: answeredAt - started, load: out.load, handle: out.handle, cpu: out.cpu })
    })
    child.stdin?.end(acceptanceEvent)
  })

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] ?? Number.NaN : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2
}

const kb = (bytes: number) => bytes / 1000

/** Bytes in the bundle per group that `nameOf` puts an input file in, largest first. */
const sizesBy = (contents: Bundle.Contents, nameOf: (path: string) => string | undefined) => {
  const sizes = new Map<string, number>()
  for (const output of Object.values(contents.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = nameOf(path)
      if (name !== undefined) sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput)
    }
  }
  return [...sizes].sort((a, b) => b[1] - a[1])
}

/** Per npm package; ours are `@dyna/core` and `@dyna/aws`. */
const byPackage = (contents: Bundle.Contents) =>
  sizesBy(contents, (path) => {
    const ours = /packages\/(core|aws)\//.exec(path)?.[1]
    return /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? (ours === undefined ? path : `@dyna/${ours}`)
  })

/** Effect's modules, e.g. `SchemaAST`, `internal/effect`. */
const byEffectModule = (contents: Bundle.Contents) =>
  sizesBy(contents, (path) => /node_modules\/effect\/dist\/(.+)\.js$/.exec(path)?.[1])

/** The Effect modules where ours has the most bytes more than `floor`, e.g. `Duration +5.3`. */
const beyondFloor = (ours: Bundle.Contents, floor: Bundle.Contents | undefined) => {
  const floorBytes = new Map(floor === undefined ? [] : byEffectModule(floor))
  return byEffectModule(ours)
    .map(([module, b]) => [module, b - (floorBytes.get(module) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([module, more]) => `${module} +${kb(more).toFixed(1)}`)
    .join(", ") + " KB"
}

export const bench: Bench = async ({ endpoint, size, log }) => {
  const runs = size === "smoke" ? 2 : 15
  const dir = mkdtempSync(join(tmpdir(), "dyna-bench-artifact-"))
  try {
    // The shipped artifact, and the baseline through the same esbuild call.
    const artifact = await Effect.runPromise(Bundle.make)
    const dyna = await Effect.runPromise(Bundle.bundle(Bundle.handlerEntry))
    const plain = await Effect.runPromise(Bundle.bundle(plainEntry))
    const powertools = await Effect.runPromise(Bundle.bundle(powertoolsEntry))
    const floor = await Promise.all(floorEntries.map(async ({ name, entry }) => ({ name, ...(await Effect.runPromise(Bundle.bundle(entry))) })))
    if (Buffer.compare(dyna.code, artifact.code) !== 0) throw new Error("Bundle.bundle(handlerEntry) differs from Bundle.make's code")
    const files = { dyna: join(dir, "dyna.mjs"), plain: join(dir, "plain.mjs"), powertools: join(dir, "powertools.mjs") }
    writeFileSync(files.dyna, dyna.code)
    writeFileSync(files.plain, plain.code)
    writeFileSync(files.powertools, powertools.code)
    const powertoolsPackages = byPackage(powertools.contents)
    const packages = byPackage(dyna.contents)
    const effectBytes = packages.find(([name]) => name === "effect")?.[1] ?? 0
    const oursBytes = packages.filter(([name]) => name.startsWith("@dyna/")).reduce((n, [, b]) => n + b, 0)
    const sdkBytes = byPackage(plain.contents).filter(([name]) => name.startsWith("@aws-sdk/") || name.startsWith("@smithy/")).reduce((n, [, b]) => n + b, 0)
    log(`bundles: Dyna Elite ${kb(dyna.code.length).toFixed(0)} KB, plain ${kb(plain.code.length).toFixed(0)} KB, Powertools ${kb(powertools.code.length).toFixed(0)} KB`)
    log(`Powertools by package: ${powertoolsPackages.slice(0, 8).map(([name, b]) => `${name} ${kb(b).toFixed(0)}`).join(", ")} KB`)
    log(`Dyna Elite by package: ${packages.slice(0, 8).map(([name, b]) => `${name} ${kb(b).toFixed(0)}`).join(", ")} KB`)

    // Fresh tables on the bench's DynamoDB Local, one set per handler.
    const tables = {
      dyna: { transactions: "artifact-dyna-tx", profiles: "artifact-dyna-profile", rejected: "artifact-dyna-rejected", events: "artifact-dyna-events" },
      plain: { profiles: "artifact-plain-profile" },
      powertools: { profiles: "artifact-powertools-profile", idempotency: "artifact-powertools-idempotency" }
    }
    const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "bench", secretAccessKey: "bench" } })
    await Effect.runPromise(Effect.all([
      ensureTable(transactionsTable(tables.dyna.transactions)),
      ensureTable(profilesTable(tables.dyna.profiles)),
      ensureTable(rejectedTable(tables.dyna.rejected)),
      ensureTable(eventsTable(tables.dyna.events)),
      ensureTable(profilesTable(tables.plain.profiles)),
      ensureTable(profilesTable(tables.powertools.profiles)),
      ensureTable(Powertools.idempotencyTable(tables.powertools.idempotency))
    ]).pipe(Effect.provideService(DynamoDb, DynamoDb.fromClient(client, endpoint))))

    // What a Lambda environment gives both: credentials, region, endpoint, table names. Lambda runs
    // Node 22, where the SDK has no end-of-support warning to print.
    const base = {
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true"
    }
    const env = {
      dyna: { ...base, ...Deployment.tableEnvironment(tables.dyna) },
      plain: { ...base, PROFILES_TABLE: tables.plain.profiles },
      powertools: { ...base, PROFILES_TABLE: tables.powertools.profiles, IDEMPOTENCY_TABLE: tables.powertools.idempotency }
    }

    // One discarded run each (disk cache, DynamoDB Local's first requests), then alternating runs.
    await coldInit(files.dyna, env.dyna)
    await coldInit(files.plain, env.plain)
    await coldInit(files.powertools, env.powertools)
    const times = { dyna: [] as Array<ColdRun>, plain: [] as Array<ColdRun>, powertools: [] as Array<ColdRun> }
    for (let i = 0; i < runs; i++) {
      times.dyna.push(await coldInit(files.dyna, env.dyna))
      times.plain.push(await coldInit(files.plain, env.plain))
      times.powertools.push(await coldInit(files.powertools, env.powertools))
    }
    log(`cold init ms: Dyna Elite ${times.dyna.map((t) => t.total.toFixed(0)).join(" ")}; plain ${times.plain.map((t) => t.total.toFixed(0)).join(" ")}; ` +
      `Powertools ${times.powertools.map((t) => t.total.toFixed(0)).join(" ")}`)
    const medianOf = (measured: ReadonlyArray<ColdRun>, part: keyof ColdRun) => median(measured.map((r) => r[part]))

    // Each handled the acceptance event every time: $250 per run on task1test1record.
    for (const [kind, table] of [["dyna", tables.dyna.profiles], ["plain", tables.plain.profiles], ["powertools", tables.powertools.profiles]] as const) {
      const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { CustID: { S: "task1test1record" } }, ConsistentRead: true }))
      const expected = String(250 * (runs + 1))
      if (Item?.TotalTnValue?.N !== expected) throw new Error(`${kind}: TotalTnValue ${Item?.TotalTnValue?.N}, expected ${expected}`)
    }
    client.destroy()

    const gzipped = (code: Uint8Array) => kb(gzipSync(code, { level: 9 }).length)
    const sizes = (code: Uint8Array) => `${kb(code.length).toFixed(0)} KB (${gzipped(code).toFixed(0)} KB gzipped)`
    const cpuRatio = (other: ReadonlyArray<ColdRun>) => medianOf(times.dyna, "cpu") / medianOf(other, "cpu")
    const wall = (other: ReadonlyArray<ColdRun>, label: string) =>
      `wall time from spawn to the response ${medianOf(times.dyna, "total").toFixed(0)} vs ${medianOf(other, "total").toFixed(0)} ms ` +
      `(${(medianOf(times.dyna, "total") / medianOf(other, "total")).toFixed(2)}×; import ${medianOf(times.dyna, "load").toFixed(0)} vs ` +
      `${medianOf(other, "load").toFixed(0)} ms, first event ${medianOf(times.dyna, "handle").toFixed(0)} vs ${medianOf(other, "handle").toFixed(0)} ms), ` +
      `medians, runs alternating with the ${label}'s`
    const name = "4. Lambda artifact"
    const cold = `CPU ms until the response, median of ${runs}`
    return [
      atMost({
        name: `${name}: bundle size`,
        unit: "KB minified",
        dyna: kb(dyna.code.length),
        baselineName: "plain-SDK handler",
        baseline: kb(plain.code.length),
        note: `same esbuild options (Bundle.options): ${sizes(dyna.code)} vs ${sizes(plain.code)}, gzipped ` +
          `${(gzipped(dyna.code) / gzipped(plain.code)).toFixed(2)}×. Dyna Elite's ${kb(dyna.code.length - plain.code.length).toFixed(0)} KB ` +
          `more: Effect ${kb(effectBytes).toFixed(0)} KB + our code ${kb(oursBytes).toFixed(0)} KB; the SDK's ${kb(sdkBytes).toFixed(0)} KB ` +
          `are in both`
      }, SIZE_BOUND),
      atMost({
        name: `${name}: cold init`,
        unit: cold,
        dyna: medianOf(times.dyna, "cpu"),
        baselineName: "plain-SDK handler",
        baseline: medianOf(times.plain, "cpu"),
        note: `a fresh node process: spawn → import → the acceptance event handled against DynamoDB Local → response; ` +
          `CPU time (user + system) the process used until it answered; ${wall(times.plain, "plain handler")}`
      }, COLD_BOUND),
      atMost({
        name: `${name}: bundle size`,
        unit: "KB minified",
        dyna: kb(dyna.code.length),
        baselineName: "Powertools handler",
        baseline: kb(powertools.code.length),
        note: `same esbuild options (Bundle.options): ${sizes(dyna.code)} vs ${sizes(powertools.code)}; Powertools by package: ` +
          powertoolsPackages.slice(0, 6).map(([name, b]) => `${name} ${kb(b).toFixed(0)}`).join(", ") + " KB"
      }, POWERTOOLS_SIZE_BOUND),
      atMost({
        name: `${name}: cold init`,
        unit: cold,
        dyna: medianOf(times.dyna, "cpu"),
        baselineName: "Powertools handler",
        baseline: medianOf(times.powertools, "cpu"),
        note: `as above (${cpuRatio(times.powertools).toFixed(2)}× in CPU time); ${wall(times.powertools, "Powertools handler")}`
      }, POWERTOOLS_COLD_BOUND),
      atMost({
        name: `${name}: Effect's share`,
        unit: "KB of effect in the bundle",
        dyna: kb(effectBytes),
        baselineName: "budget",
        baseline: EFFECT_BUDGET_KB,
        note: `bytes esbuild's metafile attributes to node_modules/effect; largest: ` +
          byEffectModule(dyna.contents).slice(0, 10).map(([module, b]) => `${module} ${kb(b).toFixed(1)}`).join(", ") + " KB. " +
          `Effect's floor, the same way (bench/baselines/effectFloor): ` +
          floor.map(({ name, code }) => `${name} ${sizes(code)}`).join(", ") +
          `; beyond the services floor, by module: ${beyondFloor(dyna.contents, floor.at(-1)?.contents)}` +
          `; Effect and our code add ${(gzipped(dyna.code) - gzipped(plain.code)).toFixed(0)} KB gzipped to the plain handler`
      }, 1)
    ]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
