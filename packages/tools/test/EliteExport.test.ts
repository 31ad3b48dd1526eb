/**
 * The Elite export on DynamoDB Local: profiles carrying the Jam's own attributes (awkward text, numbers,
 * booleans, maps, some missing), promoted by the real handler or written by hand, read back from the
 * CSV with a real CSV parser.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import { parse } from "csv-parse/sync"
import * as Effect from "effect/Effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as EliteExport from "../src/ops/EliteExport.js"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"

let names: DynamoLocal.TableNames
let live: ReturnType<typeof DynamoLocal.handler>
const since: Record<string, string> = {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** EliteSince has whole seconds: promotions a second apart are ordered by time, not by CustID. */
const nextSecond = () => sleep(1005 - (Date.now() % 1000))

const profile = (custId: string, total: number, status: string, extra: Record<string, AttributeValue>) =>
  DynamoLocal.putItem(names.profiles, {
    CustID: { S: custId },
    TotalTnValue: { N: String(total) },
    CustStatus: { S: status },
    ...extra
  })

/** Promotes a customer through the real handler; returns the EliteSince it recorded. */
const promote = async (custId: string, values: ReadonlyArray<readonly [number, number]>) => {
  await nextSecond()
  const response = await live.handler(Events.batch(DynamoLocal.inserts(custId, values)))
  assert.deepStrictEqual(response.batchItemFailures, [])
  const row = await DynamoLocal.profileRow(names, custId)
  assert.isString(row?.EliteSince, custId)
  since[custId] = String(row?.EliteSince)
}

const exported = (options: EliteExport.Options = {}) => DynamoLocal.run(names, EliteExport.run(options))
const read = (csv: string): Array<Array<string>> => parse(csv)

const header = ["CustID", "TotalTnValue", "EliteSince", "Address", "Age", "Email", "Name", "Vip"]
const address = '{"city":"Zürich","street":"Bahnhofstrasse 1, 2nd floor","zip":"8001"}'

beforeAll(async () => {
  names = await DynamoLocal.freshTables()
  live = DynamoLocal.handler(names)
  // The Jam's profiles, before any purchase: names, emails and more, which the handler keeps.
  await profile("ann", 0, "Normal", {
    Name: { S: 'Smith, Ann "Annie"' },
    Email: { S: "ann@example.com" },
    Age: { N: "41" },
    Vip: { BOOL: true }
  })
  await profile("bob", 0, "Normal", {
    Name: { S: "Bob\r\nLine two\nline three" },
    Email: { S: "bob@example.com" },
    Age: { N: "7" },
    Address: {
      M: { zip: { S: "8001" }, city: { S: "Zürich" }, street: { S: "Bahnhofstrasse 1, 2nd floor" } }
    }
  })
  await profile("zoë", 0, "Normal", { Name: { S: "Zoë 山田 😀" }, Vip: { BOOL: false } })
  // Elite from before EliteSince was recorded, as the Jam left them.
  await profile("jam-elite", 1500, "Elite", { Name: { S: "Jam, Old" }, Email: { S: "old@jam.example" } })
  // A stale status either way: the total decides.
  await profile("stale-normal", 1200, "Normal", { Name: { S: " padded " } })
  await profile("stale-elite", 999, "Elite", { Name: { S: "Not Elite" } })
  await profile("normal", 200, "Normal", { Name: { S: "Plain" }, Email: { S: "plain@example.com" } })
  // Unreadable: left off the list, named with the attribute at fault.
  await profile("broken-total", 0, "Elite", { TotalTnValue: { N: "12.5" } })
  await profile("broken-since", 1100, "Elite", { EliteSince: { S: "yesterday" } })
  // Promoted in the reverse of CustID order, each in its own second.
  await promote("zoë", [[1, 2500]])
  await promote("bob", [[1, 400], [2, 600]])
  await promote("ann", [[1, 600], [2, 300], [3, 150]])
}, 30_000)

afterAll(() => live.dispose())

describe("EliteExport.run", () => {
  it("writes every Elite customer with all their attributes, in EliteSince order, and the CSV parses back", async () => {
    const result = await exported()
    assert.deepStrictEqual(read(result.csv), [
      header,
      ["jam-elite", "1500", "", "", "", "old@jam.example", "Jam, Old", ""],
      ["stale-normal", "1200", "", "", "", "", " padded ", ""],
      ["zoë", "2500", since["zoë"] ?? "?", "", "", "", "Zoë 山田 😀", "false"],
      ["bob", "1000", since["bob"] ?? "?", address, "7", "bob@example.com", "Bob\r\nLine two\nline three", ""],
      ["ann", "1050", since["ann"] ?? "?", "", "41", "ann@example.com", 'Smith, Ann "Annie"', "true"]
    ])
    assert.strictEqual(result.columns, header.length)
    assert.strictEqual(result.scanned, 9)
    // No cell here starts like a formula: the default and raw documents are the same.
    assert.strictEqual(result.neutralised, 0)
    assert.strictEqual((await exported({ raw: true })).csv, result.csv)
    assert.deepStrictEqual(result.rows.map((r) => r.custId), ["jam-elite", "stale-normal", "zoë", "bob", "ann"])
    assert.deepStrictEqual(result.skipped.map((s) => s.custId), ["broken-since", "broken-total"])
    assert.include(result.skipped[0]?.reason, "EliteSince")
    assert.include(result.skipped[1]?.reason, "TotalTnValue")
  })

  it("is RFC 4180 text: CRLF after every record, quotes doubled, UTF-8 as is", async () => {
    const { csv } = await exported()
    assert.isTrue(csv.startsWith(`${header.join(",")}\r\n`))
    assert.isTrue(csv.endsWith("\r\n"))
    assert.include(csv, '"Smith, Ann ""Annie"""')
    assert.include(csv, '"Bob\r\nLine two\nline three"')
    assert.include(csv, ",Zoë 山田 😀,")
    // The same bytes a strict reader takes back.
    assert.deepStrictEqual(parse(Buffer.from(csv, "utf8"), { record_delimiter: "\r\n", relax_quotes: false }), read(csv))
  })

  it("keeps, with since, those Elite at or after it, and none without EliteSince", async () => {
    const result = await exported({ since: new Date(since["bob"] ?? "") })
    assert.deepStrictEqual(read(result.csv).map((r) => r[0]), ["CustID", "bob", "ann"])
    const later = await exported({ since: new Date(Date.parse(since["ann"] ?? "") + 1000) })
    assert.deepStrictEqual(read(later.csv), [["CustID", "TotalTnValue", "EliteSince"]])
    assert.strictEqual(later.columns, 3)
  })

  it("reads the same list with parallel Scan segments, reporting every page", async () => {
    const one = await exported()
    let items = 0
    const four = await exported({ segments: 4, onPage: (n) => Effect.sync(() => void (items += n)) })
    assert.strictEqual(four.csv, one.csv)
    assert.deepStrictEqual(four.skipped, one.skipped)
    assert.strictEqual(items, 9)
  })
})
