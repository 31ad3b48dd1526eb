/**
 * The commands as a user runs them: `pnpm provision` starts its own DynamoDB Local in the background
 * (here on a free port, with its state in a temporary DYNA_HOME), the acceptance event goes through
 * `pnpm invoke`, and every failure is one readable line with a non-zero exit code.
 */
import { assert, describe, it } from "vitest"
import * as Commands from "./support/Commands.js"

const local = Commands.useLocalHome("dyna-home-")

/** Runs `pnpm <args>` from the repository root, as the README says. */
const pnpm = (...args: ReadonlyArray<string>) => Commands.pnpmSync(local.env, ...args)

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
    const result = Commands.pnpmSync({ ...local.env, PROFILES_TABLE: "NeverMade" }, "run", "profile", "x")
    assert.strictEqual(result.code, 1)
    assert.include(result.stderr, "table NeverMade does not exist; run `pnpm provision` first")
  })

  it("say there is no profile, with exit code 1", () => {
    const result = pnpm("run", "profile", "nobody-here")
    assert.strictEqual(result.code, 1)
    assert.include(result.stderr, 'no profile for CustID "nobody-here"')
  })

  it("answer --help and reject wrong arguments with the usage", async () => {
    // Each only reads its arguments and exits: run side by side.
    const run = (...args: ReadonlyArray<string>) => Commands.pnpm(local.env, ...args)
    const commands = ["provision", "verify", "invoke", "put-transaction", "run profile", "quarantine", "teardown", "local:logs", "local:stop"]
    const [helps, wrong, badTarget, badVerifyTarget, tooFew, noFile] = await Promise.all([
      Promise.all(commands.map(async (command) => ({ command, help: await run(...command.split(" "), "--help") }))),
      run("invoke"),
      run("provision", "--target", "mars"),
      run("verify", "--target", "mars"),
      run("put-transaction", "c", "1"),
      run("invoke", "no-such-file.json")
    ])
    for (const { command, help } of helps) {
      assert.strictEqual(help.code, 0, command)
      assert.include(help.stdout, "Usage: pnpm", command)
    }
    assert.strictEqual(wrong.code, 2)
    assert.include(wrong.stderr, "expected 1 argument(s)")
    assert.strictEqual(badTarget.code, 2)
    assert.include(badVerifyTarget.stderr, "--target must be local or aws")
    assert.strictEqual(tooFew.code, 2)
    assert.strictEqual(noFile.code, 2)
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
