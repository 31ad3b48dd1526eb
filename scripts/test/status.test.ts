/**
 * `pnpm status` as a user runs it, on a local stack of the test's own (DynamoDB Local on a free port,
 * state in a temporary DYNA_HOME): before anything runs, on the provisioned stack with purchases
 * counted, and with the runner killed; plus `--help` and bad arguments.
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb"
import * as Deployment from "@dyna/aws/Deployment"
import * as Metrics from "@dyna/aws/Metrics"
import { alive } from "@dyna/tools/local/Background"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import * as Commands from "./support/Commands.js"

const local = Commands.useLocalHome("dyna-status-")

const pnpm = (...args: ReadonlyArray<string>) => Commands.pnpmSync(local.env, ...args)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const runnerPid = () => Commands.runnerPid(local.home)

/** The records the runner says it delivered, from its status file (rewritten every second). */
const delivered = () => {
  const file = join(local.home, "runner", "status.json")
  return existsSync(file) ? Number(JSON.parse(readFileSync(file, "utf8")).records) : 0
}

describe("pnpm status", () => {
  it("answers --help with its flags and exit codes", () => {
    // Bad targets and unknown flags are the shared parser's, tested once in cli.test.ts.
    const help = pnpm("status", "--help")
    assert.strictEqual(help.code, 0)
    assert.include(help.stdout, "Usage: pnpm status [--target local|aws] [--json]")
    assert.include(help.stdout, "Exit code 0 when all is well; 1 when something needs attention")
  })

  it("says in one line that the local stack is not running", () => {
    const result = pnpm("status")
    assert.strictEqual(result.code, 1)
    assert.strictEqual(result.stdout, "")
    assert.match(result.stderr.trim(), new RegExp(`^error: DynamoDB is not reachable at ${local.endpoint} .*run \`pnpm provision\`$`))
  })

  it("on the provisioned stack: every line, the purchases counted, and OK with exit code 0", async () => {
    const provisioned = pnpm("provision")
    assert.strictEqual(provisioned.code, 0, provisioned.stderr)
    for (const [custId, tnNum, tnValue] of [["status-a", "1", "700"], ["status-a", "2", "400"], ["status-b", "1", "20"]] as const) {
      await local.db.send(new PutItemCommand({
        TableName: "CustTransactions",
        Item: { CustID: { S: custId }, TnNum: { N: tnNum }, TnValue: { N: tnValue } }
      }))
    }
    const deadline = Date.now() + 30_000
    while (delivered() < 3 && Date.now() < deadline) await sleep(100)
    const result = pnpm("status")
    assert.strictEqual(result.code, 0, `${result.stdout}\n${result.stderr}`)
    const lines = result.stdout.trimEnd().split("\n")
    assert.deepStrictEqual(lines.slice(1, -1).map((l) => l.slice(0, 13).trim()), ["Tables", "Stream", "Mapping", "Lag", "Last hour", "Quarantined", "Elite"])
    assert.strictEqual(lines[0], `Dyna Elite status — local (DynamoDB Local at ${local.endpoint})`)
    assert.strictEqual(lines[1], "Tables       CustTransactions 3 · CustProfile 2 · CustTransactionsRejected 0 · CustEliteEvents 1")
    assert.strictEqual(lines[2], "Stream       CustTransactions NEW_IMAGE, ENABLED, 1 shard")
    assert.match(lines[3] ?? "", new RegExp(`^Mapping {6}local runner pid ${runnerPid()}, running; \\d+ batch(es)?, 3 records delivered; status \\d+ m?s old$`))
    assert.strictEqual(lines[4], "Lag          0 ms (caught up)")
    // The function's EMF lines, in the runner's log: status-a's two purchases promote it.
    assert.match(lines[5] ?? "", /^Last hour {4}3 applied, 0 duplicates, 0 quarantined, 1 promotion, 0 retried in \d+ batch(es)?$/)
    assert.strictEqual(lines[6], "Quarantined  0 record(s)   On-failure 0 record(s)")
    assert.strictEqual(lines[7], "Elite        1 customer(s)")
    assert.strictEqual(lines[8], "OK: runner running, lag 0 ms, 1 Elite, 0 quarantined.")
    const emitted = readFileSync(join(local.home, "runner.log"), "utf8").split("\n").flatMap((l) => Metrics.decode(l) ?? [])
    assert.isAbove(emitted.length, 0)
    assert.deepStrictEqual([...new Set(emitted.map((e) => e.functionName))], [Deployment.DEFAULT_FUNCTION_NAME])
    assert.strictEqual(emitted.reduce((n, e) => n + (e.values.RecordsApplied ?? 0), 0), 3)

    const json = pnpm("status", "--json")
    assert.strictEqual(json.code, 0, json.stderr)
    const report = JSON.parse(json.stdout)
    assert.deepInclude(report, { target: "local", endpoint: local.endpoint, home: local.home, attention: [], summary: "OK: runner running, lag 0 ms, 1 Elite, 0 quarantined." })
    assert.deepStrictEqual(report.elite, { _tag: "Counted", count: 1 })
    assert.deepInclude(report.mapping, { _tag: "LocalRunner", pid: runnerPid(), stale: false })
    assert.deepInclude(report.lastHour, { _tag: "Summed", file: join(local.home, "runner.log") })
    assert.deepInclude(report.lastHour.totals, { applied: 3, duplicates: 0, quarantined: 0, promotions: 1, retried: 0 })
  }, 240_000)

  it("with the runner killed: ATTENTION, the hint to provision, and exit code 1", async () => {
    const pid = runnerPid()
    process.kill(pid, "SIGKILL")
    while (alive(pid)) await sleep(50)
    const result = pnpm("status")
    assert.strictEqual(result.code, 1, result.stderr)
    assert.match(result.stdout, /^Mapping {6}local runner not running \(last report \d+ m?s ago: \d+ batch(es)?, 3 records delivered\)$/m)
    assert.include(result.stdout, "Attention    the local runner is not running, so nothing reads the stream — run `pnpm provision`")
    assert.strictEqual(
      result.stdout.trimEnd().split("\n").at(-1),
      "ATTENTION: the local runner is not running, so nothing reads the stream — run `pnpm provision`."
    )
    const json = pnpm("status", "--json")
    assert.strictEqual(json.code, 1)
    assert.deepStrictEqual(JSON.parse(json.stdout).attention, ["the local runner is not running, so nothing reads the stream — run `pnpm provision`"])
  })
})
