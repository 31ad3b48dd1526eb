/**
 * The runner's process as provisioning starts it: a stand-in runner program (it reports its pid and
 * dumps the environment it was given) shows what reaches the child, whatever the caller's holds.
 */
import * as Effect from "effect/Effect"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { devNull, tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as Background from "../src/local/Background.js"
import * as RunnerProcess from "../src/local/RunnerProcess.js"

const root = mkdtempSync(join(tmpdir(), "runner-process-test-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const mappingIn = (dir: string): RunnerProcess.Mapping => ({
  streamArn: "arn:aws:dynamodb:ddblocal:000000000000:table/CustTransactions/stream/2026-01-01T00:00:00.000",
  settings: Deployment.mappingSettings,
  functionFile: join(dir, "function", "index.mjs"),
  functionSha256: "none",
  environment: { PROFILES_TABLE: "CustProfile", LOG_LEVEL: "Info" },
  checkpointFile: join(dir, "runner", "checkpoints.json"),
  onFailureFile: join(dir, "runner", "on-failure.jsonl"),
  statusFile: join(dir, "runner", "status.json")
})

/** A caller's environment on a developer's machine, with everything that must not leak. */
const caller = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: "/home/dev",
  AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8123",
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIAREALKEY0000000000",
  AWS_SECRET_ACCESS_KEY: "real-secret",
  AWS_SESSION_TOKEN: "real-session-token",
  AWS_PROFILE: "production",
  AWS_CONFIG_FILE: "/home/dev/.aws/config",
  GITHUB_TOKEN: "ghp_secret",
  NODE_OPTIONS: "--require /tmp/anything.js",
  UNSET: undefined
}

const expected = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8123",
  AWS_REGION: "eu-west-1",
  AWS_LAMBDA_FUNCTION_NAME: "JAM_Lambda_Exec_Function_EDIT_THIS",
  PROFILES_TABLE: "CustProfile",
  LOG_LEVEL: "Info",
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_CONFIG_FILE: devNull,
  AWS_SHARED_CREDENTIALS_FILE: devNull,
  AWS_EC2_METADATA_DISABLED: "true"
}

/** Reports itself running as the real runner does, after writing down the environment it was given. */
const standIn = `
import { readFileSync, writeFileSync } from "node:fs"
const mapping = JSON.parse(readFileSync(process.argv[2], "utf8"))
writeFileSync(mapping.statusFile + ".env.json", JSON.stringify(process.env))
const now = new Date().toISOString()
writeFileSync(mapping.statusFile, JSON.stringify({ pid: process.pid, startedAt: now, updatedAt: now, streamArn: mapping.streamArn, batches: 0, records: 0, onFailure: 0 }))
process.on("SIGTERM", () => process.exit(0))
setInterval(() => {}, 1000)
`

describe("RunnerProcess.environment", () => {
  it("keeps only the allowed variables of the caller, names the function, then the function's, then placeholder credentials", () => {
    assert.deepStrictEqual(RunnerProcess.environment(mappingIn(root), caller), expected)
  })

  it("gives a region when the caller has none, and placeholder credentials whatever the function's environment says", () => {
    const mapping = { ...mappingIn(root), environment: { AWS_ACCESS_KEY_ID: "AKIAREALKEY0000000000" } }
    const env = RunnerProcess.environment(mapping, { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8000" })
    assert.strictEqual(env["AWS_REGION"], "us-east-1")
    assert.strictEqual(env["AWS_ACCESS_KEY_ID"], "local")
  })
})

describe("RunnerProcess.start", () => {
  it("starts the runner with exactly that environment: none of the caller's keys or tokens reach it", async () => {
    const dir = mkdtempSync(join(root, "home-"))
    const script = join(dir, "runner", "runner.mjs")
    const files = { script, mappingFile: join(dir, "runner", "mapping.json"), pidFile: join(dir, "runner", "runner.pid"), logFile: join(dir, "runner.log") }
    const mapping = mappingIn(dir)
    mkdirSync(join(dir, "runner"), { recursive: true })
    writeFileSync(script, standIn)
    const pid = await Effect.runPromise(RunnerProcess.start(files, mapping, caller))
    try {
      const seen: unknown = JSON.parse(readFileSync(`${mapping.statusFile}.env.json`, "utf8"))
      assert.deepStrictEqual(seen, expected)
    } finally {
      assert.strictEqual(await Effect.runPromise(Background.stop(files.pidFile)), "stopped", `runner pid ${pid}`)
    }
  }, 40_000)
})
