/**
 * @dyna/core and @dyna/aws install like published packages: `pnpm pack` builds each (prepack) and
 * packs it, npm installs both tarballs into a fresh project outside the workspace, `tsc` typechecks a
 * consumer against the installed `.d.ts` (NodeNext, no `source` condition), and node runs its handler,
 * made with `Handler.make`, on the acceptance event against this project's DynamoDB Local.
 */
import { spawn } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "vitest"
import * as DynamoLocal from "./support/DynamoLocal.js"

const packages = fileURLToPath(new URL("../../", import.meta.url))
const acceptanceEvent = fileURLToPath(new URL("../../../events/jam-task1.json", import.meta.url))
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")

const work = mkdtempSync(join(tmpdir(), "dyna-install-"))
const project = join(work, "consumer")
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

const run = (command: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  new Promise<Ran>((resolve, reject) => {
    const started = Date.now()
    const child = spawn(command, args, { cwd, env })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("error", reject)
    child.once("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }))
  })

const succeeded = (what: string, ran: Ran) => {
  assert.strictEqual(ran.code, 0, `${what} failed:\n${ran.stdout}\n${ran.stderr}`)
  console.log(`${what}: ${ran.ms} ms`)
  return ran
}

/** Packs a workspace package (its prepack builds dist/) and returns the tarball's path. */
const pack = async (dir: string) => {
  const ran = succeeded(`pnpm pack ${dir}`, await run("pnpm", ["pack", "--pack-destination", work], join(packages, dir)))
  const tarball = ran.stdout.trim().split("\n").at(-1) ?? ""
  assert.match(tarball, /\.tgz$/)
  return tarball
}

/** A file of a tarball, read with tar. */
const fromTarball = async (tarball: string, path: string) =>
  succeeded(`tar ${path}`, await run("tar", ["-xzOf", tarball, `package/${path}`], work)).stdout

const listing = async (tarball: string) => succeeded("tar list", await run("tar", ["-tzf", tarball], work)).stdout.split("\n")

describe("the published packages", () => {
  it("pack with their versions, install with npm, typecheck a consumer and run its handler on DynamoDB Local", async () => {
    const [core, aws] = await Promise.all([pack("core"), pack("aws")])

    // The tarballs: dist with declarations and a README; `workspace:*` replaced by the version.
    for (const [tarball, module] of [[core, "Elite"], [aws, "Handler"]] as const) {
      const files = await listing(tarball)
      assert.includeMembers(files, [`package/dist/${module}.js`, `package/dist/${module}.d.ts`, "package/README.md", "package/package.json"])
      assert.isFalse(files.some((f) => f.startsWith("package/test/")), "tests are not published")
    }
    const awsManifest = JSON.parse(await fromTarball(aws, "package.json"))
    assert.strictEqual(awsManifest.dependencies["@dyna/core"], JSON.parse(await fromTarball(core, "package.json")).version)
    assert.notInclude(JSON.stringify(awsManifest), "workspace:")

    // A fresh project outside the workspace. It declares only our two tarballs, so that what they need
    // (effect, the SDK client, @types/aws-lambda for the handler's types) must come with them.
    const manifest = {
      name: "consumer",
      private: true,
      type: "module",
      dependencies: {
        "@dyna/core": `file:${core}`,
        "@dyna/aws": `file:${aws}`
      },
      devDependencies: { "@types/node": "^20.19.43" }
    }
    const tsconfig = {
      compilerOptions: {
        target: "ES2022",
        // effect's own .d.ts name Web Crypto's CryptoKey and Web Storage, which only the DOM lib declares.
        lib: ["ES2022", "DOM"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        types: ["node"],
        strict: true,
        exactOptionalPropertyTypes: true,
        // Our .d.ts are checked too, with every import they make resolved from what npm installed.
        skipLibCheck: false,
        outDir: "out"
      },
      files: ["consumer.ts"]
    }
    mkdirSync(project)
    writeFileSync(join(project, "package.json"), JSON.stringify(manifest, null, 2))
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2))
    copyFileSync(fileURLToPath(new URL("./support/Consumer.ts", import.meta.url)), join(project, "consumer.ts"))

    succeeded("npm install", await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], project))
    // Both of ours come from the tarballs (a registry's @dyna/core would be someone else's), once each.
    const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8"))
    assert.match(lock.packages["node_modules/@dyna/core"].resolved, /^file:/)
    assert.match(lock.packages["node_modules/@dyna/aws"].resolved, /^file:/)
    assert.deepStrictEqual(Object.keys(lock.packages).filter((p) => p.endsWith("/@dyna/core")), ["node_modules/@dyna/core"])

    succeeded("tsc", await run(process.execPath, [tsc, "-p", "tsconfig.json"], project))
    assert.isTrue(existsSync(join(project, "out", "consumer.js")))

    const names = await DynamoLocal.freshTables()
    const env = {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL_DYNAMODB: DynamoLocal.endpoint(),
      TRANSACTIONS_TABLE: names.transactions,
      PROFILES_TABLE: names.profiles,
      REJECTED_TABLE: names.rejected,
      ELITE_EVENTS_TABLE: names.events
    }
    const ran = succeeded("node consumer", await run(process.execPath, ["out/consumer.js", acceptanceEvent, "task1test1record"], project, env))
    const result = ran.stdout.split("\n").find((line) => line.startsWith("RESULT "))
    assert.deepStrictEqual(JSON.parse(result?.slice("RESULT ".length) ?? "null"), {
      response: { batchItemFailures: [] },
      profile: "250 / Normal",
      rule: true
    })
  }, 300_000)
})
