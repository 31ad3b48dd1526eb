/**
 * The commands as a user runs them: `pnpm provision` starts its own DynamoDB Local in the background
 * (here on a free port, with its state in a temporary DYNA_HOME), the acceptance event goes through
 * `pnpm invoke`, and every failure is one readable line with a non-zero exit code.
 */
import { freePort } from "@dyna/aws/local/DynamoDbLocal"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
let env: NodeJS.ProcessEnv
let home: string

/** Runs `pnpm <args>` from the repository root, as the README says. */
const pnpm = (...args: ReadonlyArray<string>) => {
  const result = spawnSync("pnpm", ["-s", ...args], { cwd: root, env, encoding: "utf8" })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "dyna-home-"))
  env = { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await Effect.runPromise(freePort)}`, DYNA_HOME: home }
})

afterAll(() => {
  pnpm("local:stop")
  rmSync(home, { recursive: true, force: true })
})

describe("the pnpm commands", () => {
  it("say clearly that the local stack is not running", () => {
    for (const command of [["run", "profile", "task1test1record"], ["invoke", "events/jam-task1.json"]]) {
      const result = pnpm(...command)
      assert.strictEqual(result.code, 1, command.join(" "))
      assert.include(result.stderr, "DynamoDB is not reachable at")
      assert.include(result.stderr, "pnpm provision")
      assert.notInclude(result.stderr, "    at ")
    }
  })

  it("provision the local stack step by step", () => {
    const result = pnpm("provision")
    assert.strictEqual(result.code, 0, result.stderr)
    assert.match(result.stdout, /\[1\/8\] DynamoDB Local: started/)
    assert.match(result.stdout, /table CustTransactions: created/)
    assert.match(result.stdout, /stream on CustTransactions: created .*NEW_IMAGE/)
    assert.match(result.stdout, /table CustProfile: created/)
    assert.match(result.stdout, /CustTransactionsRejected \(quarantine\): created/)
    assert.match(result.stdout, /function \(bundled\): created/)
    assert.match(result.stdout, /stream mapping CustTransactions → local runner: started/)
  })

  it("are safe to run again", () => {
    const result = pnpm("provision")
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stdout, "Nothing to change")
  })

  it("run the acceptance event and show task1test1record as 250 / Normal", () => {
    const invoked = pnpm("invoke", "events/jam-task1.json")
    assert.strictEqual(invoked.code, 0, invoked.stderr)
    assert.deepStrictEqual(JSON.parse(invoked.stdout), { batchItemFailures: [] })
    const shown = pnpm("run", "profile", "task1test1record")
    assert.strictEqual(shown.code, 0, shown.stderr)
    assert.deepInclude(JSON.parse(shown.stdout), { CustID: "task1test1record", TotalTnValue: 250, CustStatus: "Normal" })
  })

  it("list what was quarantined", () => {
    assert.strictEqual(pnpm("invoke", "events/batch-mixed.json").code, 0)
    const listed = pnpm("quarantine")
    assert.strictEqual(listed.code, 0, listed.stderr)
    assert.include(listed.stdout, "TnValue.N: must be a whole number of dollars")
    assert.include(listed.stdout, "2 quarantined record(s).")
  })

  it("name a configured table that was never provisioned", () => {
    const result = spawnSync("pnpm", ["-s", "run", "profile", "x"], {
      cwd: root,
      env: { ...env, PROFILES_TABLE: "NeverMade" },
      encoding: "utf8"
    })
    assert.strictEqual(result.status, 1)
    assert.include(result.stderr, "table NeverMade does not exist; run `pnpm provision` first")
  })

  it("say there is no profile, with exit code 1", () => {
    const result = pnpm("run", "profile", "nobody-here")
    assert.strictEqual(result.code, 1)
    assert.include(result.stderr, 'no profile for CustID "nobody-here"')
  })

  it("answer --help and reject wrong arguments with the usage", () => {
    for (
      const command of ["provision", "verify", "invoke", "put-transaction", "run profile", "quarantine", "teardown", "local:logs", "local:stop"]
    ) {
      const help = pnpm(...command.split(" "), "--help")
      assert.strictEqual(help.code, 0, command)
      assert.include(help.stdout, "Usage: pnpm", command)
    }
    const wrong = pnpm("invoke")
    assert.strictEqual(wrong.code, 2)
    assert.include(wrong.stderr, "expected 1 argument(s)")
    assert.strictEqual(pnpm("provision", "--target", "mars").code, 2)
    assert.include(pnpm("verify", "--target", "mars").stderr, "--target must be local or aws")
    assert.strictEqual(pnpm("put-transaction", "c", "1").code, 2)
    assert.strictEqual(pnpm("invoke", "no-such-file.json").code, 2)
  })

  it("write a transaction row once, checked like a stream image", () => {
    assert.strictEqual(pnpm("put-transaction", "cli-cust", "7", "120").code, 0)
    const again = pnpm("put-transaction", "cli-cust", "7", "120")
    assert.strictEqual(again.code, 1)
    assert.include(again.stderr, "transaction 7 of cli-cust already exists")
    const bad = pnpm("put-transaction", "cli-cust", "x", "1.5")
    assert.strictEqual(bad.code, 1)
    assert.include(bad.stderr, "TnValue.N: must be a whole number of dollars; TnNum.N: must be an integer")
  })

  it("stop the runner and the background DynamoDB Local", () => {
    const first = pnpm("local:stop").stdout
    assert.include(first, "Runner stopped.")
    assert.include(first, "stopped.")
    const second = pnpm("local:stop").stdout
    assert.include(second, "Runner is not running.")
    assert.include(second, "DynamoDB Local is not running")
  })
})
