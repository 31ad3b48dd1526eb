/**
 * `pnpm reconcile` as a user runs it, on its own in-memory DynamoDB Local with rows written straight
 * into CustTransactions and profiles edited by hand (no stream, no runner: every difference stays).
 */
import { type AttributeValue, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb"
import { assert, describe, it } from "vitest"
import * as Commands from "./support/Commands.js"

const tables = Commands.useInMemoryTables("dyna-reconcile-")

/** Runs `pnpm <args>` from the repository root, as the README says; several may run at once. */
const pnpm = (...args: ReadonlyArray<string>) => Commands.pnpm(tables.env, ...args)

const put = (table: string, item: Record<string, AttributeValue>) => tables.db.send(new PutItemCommand({ TableName: table, Item: item }))
const row = (custId: string, tnNum: number, tnValue: number) =>
  put("CustTransactions", { CustID: { S: custId }, TnNum: { N: String(tnNum) }, TnValue: { N: String(tnValue) } })
const profile = (custId: string, total: number, status: string) =>
  put("CustProfile", { CustID: { S: custId }, TotalTnValue: { N: String(total) }, CustStatus: { S: status } })
const stored = async (custId: string) => {
  const out = await tables.db.send(new GetItemCommand({ TableName: "CustProfile", Key: { CustID: { S: custId } }, ConsistentRead: true }))
  return `${out.Item?.TotalTnValue?.N} ${out.Item?.CustStatus?.S}`
}

/** The last line of stdout: the summary. */
const summary = (stdout: string) => stdout.trim().split("\n").at(-1) ?? ""

describe("pnpm reconcile", () => {
  it("answers --help with what it does, its flags and exit codes, and rejects bad arguments with exit code 2", async () => {
    // The checks themselves are tested as functions (flags.test.ts); these prove they are wired in.
    const bad = [
      [["--settle", "soon"], "--settle must be a number of seconds from 0 to 60"],
      [["--customer", ""], "--customer must be a non-empty CustID"]
    ] as const
    const [help, ...results] = await Promise.all([pnpm("reconcile", "--help"), ...bad.map(([args]) => pnpm("reconcile", ...args))])
    assert.strictEqual(help.code, 0, help.stderr)
    for (const text of ["Usage: pnpm reconcile", "--repair", "--customer ID", "--segments N", "--settle S", "--target local|aws", "lag, not drift", "Exit codes"]) {
      assert.include(help.stdout, text)
    }
    for (const [[args, message], result] of bad.map((b, i) => [b, results[i]] as const)) {
      assert.strictEqual(result?.code, 2, args.join(" "))
      assert.include(result?.stderr, message)
      assert.include(result?.stderr, "Usage: pnpm reconcile")
    }
  })

  it("prints each difference and a summary with exit code 1; --repair sets them right with exit code 0", async () => {
    await row("cli-a", 1, 400)
    await row("cli-a", 2, 650)
    await profile("cli-a", 950, "Normal")
    await row("cli-b", 1, 300)
    await profile("cli-b", 300, "Normal")
    await row("cli-c", 1, 200)

    // Both only read: run side by side.
    const [found, one] = await Promise.all([pnpm("reconcile", "--settle", "0.1"), pnpm("reconcile", "--customer", "cli-b")])
    assert.strictEqual(found.code, 1, found.stderr)
    assert.deepStrictEqual(found.stdout.trim().split("\n").slice(0, -1), [
      "cli-a  stored 950 Normal  computed 1050 Elite  (total, status)",
      "cli-c  stored no profile  computed 200 Normal  (missing profile)"
    ])
    assert.match(summary(found.stdout), /^Reconcile: 3 customers, 4 rows checked in [\d.]+ s \([\d,]+ rows\/s\): 2 drifted\.$/)
    // The progress line's last state, on stderr: not a terminal, so plain lines.
    assert.match(found.stderr, /^reconcile \[#{30}\] 6\/6 items {2}100%/m)
    assert.strictEqual(await stored("cli-a"), "950 Normal", "without --repair nothing is written")

    assert.strictEqual(one.code, 0, one.stderr)
    assert.match(one.stdout, /^Reconcile: 1 customer, 1 row checked in [\d.]+ s \([\d,]+ rows\/s\): no drift\.\n$/)

    // A repair is agreed to first: with no terminal and no --yes it writes nothing and says so.
    const refused = await pnpm("reconcile", "--repair", "--settle", "0.1")
    assert.strictEqual(refused.code, 1)
    assert.include(refused.stderr, "not repaired: 2 drifted profiles need your agreement; run it on a terminal to be asked, or pass --yes")
    assert.strictEqual(await stored("cli-a"), "950 Normal", "without agreement nothing is written")

    const repaired = await pnpm("reconcile", "--repair", "--yes", "--settle", "0.1")
    assert.strictEqual(repaired.code, 0, repaired.stderr)
    assert.include(repaired.stdout, "cli-a  stored 950 Normal  computed 1050 Elite  (total, status)  -> repaired\n")
    assert.include(repaired.stdout, "cli-c  stored no profile  computed 200 Normal  (missing profile)  -> repaired\n")
    assert.match(summary(repaired.stdout), /: 2 drifted, 2 repaired\.$/)
    assert.deepStrictEqual([await stored("cli-a"), await stored("cli-b"), await stored("cli-c")], ["1050 Elite", "300 Normal", "200 Normal"])

    const clean = await pnpm("reconcile")
    assert.strictEqual(clean.code, 0, clean.stderr)
    assert.match(clean.stdout, /^Reconcile: 3 customers, 4 rows checked in [\d.]+ s \([\d,]+ rows\/s\): no drift\.\n$/)
  })

  it("names a row it cannot read and exits 1, also with --repair", async () => {
    await put("CustTransactions", { CustID: { S: "cli-float" }, TnNum: { N: "1" }, TnValue: { N: "2.5" } })
    const result = await pnpm("reconcile", "--repair", "--yes", "--customer", "cli-float")
    assert.strictEqual(result.code, 1, result.stderr)
    assert.include(
      result.stdout,
      "cli-float  unreadable: CustTransactions row cli-float/1 cannot be counted: TnValue.N must be a whole number of dollars"
    )
    assert.include(result.stdout, "-> not repaired: cannot be recounted until the row or item named is corrected")
    assert.match(summary(result.stdout), /: 1 drifted, 0 repaired, 1 not repaired\.$/)
    assert.notInclude(result.stderr, "    at ")
  })
})
