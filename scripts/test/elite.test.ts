/**
 * `pnpm elite export|events|watch` as a user runs them, against a DynamoDB Local of the test's own (in
 * memory, on a free port) holding the tables under their default names: no function or runner needed,
 * since the rows are written as the handler would have left them.
 */
import { type AttributeValue, PutItemCommand } from "@aws-sdk/client-dynamodb"
import * as Deployment from "@dyna/aws/Deployment"
import * as Promotion from "@dyna/core/Promotion"
import { parse } from "csv-parse/sync"
import { spawn } from "node:child_process"
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import * as Commands from "./support/Commands.js"

const tables = Commands.useInMemoryTables("dyna-elite-")

/** Runs `pnpm elite <args>` from the repository root, as the README says; several may run at once. */
const pnpm = (...args: ReadonlyArray<string>) => Commands.pnpm(tables.env, "elite", ...args)

const names = Deployment.names()
const put = (table: string, item: Record<string, AttributeValue>) => tables.db.send(new PutItemCommand({ TableName: table, Item: item }))

const event = (custId: string, total: number, tnNum: string, qualifiedAt: string) =>
  Promotion.toItem({
    custId: Promotion.Item.fields.CustID.fields.S.make(custId),
    totalTnValue: total,
    tnNum,
    sequenceNumber: undefined,
    qualifiedAt,
    profileVersion: 2
  })

beforeAll(async () => {
  const profile = (custId: string, total: number, extra: Record<string, AttributeValue>) =>
    put(names.profiles, { CustID: { S: custId }, TotalTnValue: { N: String(total) }, CustStatus: { S: total >= 1000 ? "Elite" : "Normal" }, ...extra })
  await profile("cli-late", 1300, { EliteSince: { S: "2026-11-25T22:01:03.000Z" }, Name: { S: "Late, \"L\"\r\nSecond line" } })
  await profile("cli-early", 1050, { EliteSince: { S: "2026-11-20T08:00:00.000Z" }, Name: { S: "Early" }, Email: { S: "e@x.example" } })
  // Text a spreadsheet would run as a formula, and a negative number that must stay one.
  await profile("cli-formula", 2000, {
    EliteSince: { S: "2026-11-10T12:00:00.000Z" },
    Name: { S: "=HYPERLINK(\"http://evil.example\",\"Click\")" },
    Balance: { N: "-5" }
  })
  await profile("cli-normal", 10, { Name: { S: "Nobody" } })
  await profile("cli-broken", 1000, { EliteSince: { S: "last Tuesday" } })
  await put(names.events, event("cli-late", 1300, "3", "2026-11-25T22:01:03.000Z"))
  await put(names.events, event("cli-early", 1050, "12", "2026-11-20T08:00:00.000Z"))
}, 120_000)

const formula = "=HYPERLINK(\"http://evil.example\",\"Click\")"
const expectedRows = [
  ["CustID", "TotalTnValue", "EliteSince", "Balance", "Email", "Name"],
  ["cli-formula", "2000", "2026-11-10T12:00:00.000Z", "-5", "", `'${formula}`],
  ["cli-early", "1050", "2026-11-20T08:00:00.000Z", "", "e@x.example", "Early"],
  ["cli-late", "1300", "2026-11-25T22:01:03.000Z", "", "", "Late, \"L\"\r\nSecond line"]
]

describe("pnpm elite", () => {
  it("answers --help for itself and each command, and rejects wrong arguments with exit code 2", async () => {
    // The checks themselves are tested as functions (flags.test.ts); these prove each is wired in.
    const [help, exportHelp, unknown, badDate, both] = await Promise.all([
      pnpm("--help"),
      pnpm("export", "--help"),
      pnpm("frobnicate"),
      pnpm("export", "--since", "2026-02-30"),
      pnpm("watch", "--all", "--since", "2026-01-01")
    ])
    assert.strictEqual(help?.code, 0)
    assert.include(help?.stdout, "Usage: pnpm elite <command>")
    for (const [command, own] of [["export", exportHelp]] as const) {
      assert.strictEqual(own?.code, 0, command)
      assert.include(own?.stdout, `Usage: pnpm elite ${command}`)
      assert.include(own?.stdout, "--target local|aws")
    }
    assert.strictEqual(unknown?.code, 2)
    assert.include(unknown?.stderr, 'unknown command "frobnicate"')
    assert.include(unknown?.stderr, "Usage: pnpm elite <command>")
    assert.strictEqual(badDate?.code, 2)
    assert.include(badDate?.stderr, '--since must be an ISO-8601 date (2026-11-01) or a timestamp with a zone (2026-11-01T09:00:00Z), not "2026-02-30"')
    assert.include(badDate?.stderr, "Usage: pnpm elite export")
    assert.strictEqual(both?.code, 2)
    assert.include(both?.stderr, "--all or --since")
  })

  it("export --out writes a CSV file, readable by its owner only, that parses back into the rows, and says so in one line", async () => {
    const file = join(tables.home, "invite.csv")
    // An earlier export anyone could read is replaced by one only its owner can.
    writeFileSync(file, "old\r\n", { mode: 0o644 })
    const result = await pnpm("export", "--out", file)
    assert.strictEqual(result.code, 0, result.stderr)
    assert.deepStrictEqual(parse(readFileSync(file)), expectedRows)
    assert.strictEqual(statSync(file).mode & 0o777, 0o600)
    assert.strictEqual(
      result.stdout,
      `Exported 3 Elite customers to ${file} (6 columns). 1 cell a spreadsheet would run as a formula got a leading ' (--raw keeps them exact). 1 unreadable profile left out (named above).\n`
    )
    assert.include(result.stderr, "left out CustProfile item cli-broken: EliteSince")
    assert.deepStrictEqual(readdirSync(tables.home).filter((f) => f.endsWith(".tmp")), [])
  })

  it("export without --out writes pure CSV on stdout, the summary on stderr; --since filters", async () => {
    const [all, since] = await Promise.all([pnpm("export"), pnpm("export", "--since", "2026-11-21", "--segments", "3")])
    assert.strictEqual(all.code, 0, all.stderr)
    assert.deepStrictEqual(parse(all.stdout), expectedRows)
    assert.match(all.stderr, /Exported 3 Elite customers \(6 columns\)\. 1 cell a spreadsheet would run as a formula got a leading ' \(--raw keeps them exact\)\. 1 unreadable profile left out/)
    assert.strictEqual(since.code, 0, since.stderr)
    assert.deepStrictEqual(parse(since.stdout), [
      ["CustID", "TotalTnValue", "EliteSince", "Name"],
      ["cli-late", "1300", "2026-11-25T22:01:03.000Z", "Late, \"L\"\r\nSecond line"]
    ])
  })

  it("export --raw writes every cell exactly as stored, formulas included", async () => {
    const file = join(tables.home, "raw.csv")
    const result = await pnpm("export", "--raw", "--out", file)
    assert.strictEqual(result.code, 0, result.stderr)
    assert.notInclude(result.stdout, "formula")
    const rows = parse(readFileSync(file))
    assert.deepStrictEqual(rows[1], ["cli-formula", "2000", "2026-11-10T12:00:00.000Z", "-5", "", formula])
    assert.deepStrictEqual(rows.slice(2), expectedRows.slice(2))
  })

  it("events lists the promotions oldest first, as lines or JSON", async () => {
    const [lines, json] = await Promise.all([pnpm("events"), pnpm("events", "--json", "--since", "2026-11-21T00:00:00Z")])
    assert.strictEqual(lines.code, 0, lines.stderr)
    assert.include(
      lines.stdout,
      "2026-11-20T08:00:00.000Z  cli-early  $1,050  crossed by TnNum 12\n2026-11-25T22:01:03.000Z  cli-late  $1,300  crossed by TnNum 3\n2 EliteQualified event(s).\n"
    )
    assert.strictEqual(json.code, 0, json.stderr)
    assert.deepStrictEqual(json.stdout.trim().split("\n").map((line) => JSON.parse(line)), [
      { CustID: "cli-late", ProfileVersion: 2, EventType: "EliteQualified", TotalTnValue: 1300, TnNum: 3, QualifiedAt: "2026-11-25T22:01:03.000Z" }
    ])
    assert.include(json.stderr, "1 EliteQualified event(s).")
  })

  it("watch shows a new promotion once and ends cleanly on Ctrl-C with a summary", async () => {
    // The package script's command as one process: under `pnpm elite watch`, pnpm always dies of a
    // SIGINT itself (130 in the shell), and tsx passes one on to its child and sends it again when the
    // child's acknowledgement is late, so the exit code that belongs to the command is the child's.
    const script = String(JSON.parse(readFileSync(join(Commands.root, "package.json"), "utf8")).scripts.elite)
    assert.strictEqual(script, "tsx --conditions=source scripts/elite.ts")
    // Its own process group, so the signal goes to the group, as Ctrl-C in a terminal does.
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", "scripts/elite.ts", "watch"], {
      cwd: Commands.root,
      env: tables.env,
      detached: true
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += String(chunk)))
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    const exited = new Promise<number | null>((done) => child.once("close", (code) => done(code)))
    const until = async (what: () => boolean, label: string) => {
      for (let waited = 0; !what(); waited += 50) {
        if (waited > 30_000) assert.fail(`no ${label}: stdout ${stdout}, stderr ${stderr}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    await until(() => stderr.includes("Watching CustEliteEvents for new promotions… (Ctrl-C to stop)"), "header")
    await put(names.events, event("cli-live", 1001, "5", new Date().toISOString()))
    await until(() => stdout.includes("cli-live"), "promotion line")
    // A few more polls, in which a repeat would show.
    await new Promise((r) => setTimeout(r, 1200))
    process.kill(-(child.pid ?? 0), "SIGINT")
    assert.strictEqual(await exited, 0, stderr)
    const lines = stdout.trim().split("\n")
    assert.strictEqual(lines.length, 1, stdout)
    assert.match(lines[0] ?? "", /^★ \d\d:\d\d:\d\d {2}cli-live is Elite — \$1,001 \(TnNum 5\): hand over the card$/)
    assert.match(stderr, /Watched \d+s: 1 promotion\.\n$/)
  })
})
