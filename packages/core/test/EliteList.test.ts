import { parse } from "csv-parse/sync"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"
import * as EliteList from "../src/EliteList.js"

/** A scanned CustProfile item; `eliteSince` and `extra` only when given. */
const item = (
  custId: string,
  total: number | string,
  options: { readonly eliteSince?: string; readonly status?: string; readonly extra?: Record<string, unknown> } = {}
): Record<string, unknown> => ({
  CustID: { S: custId },
  TotalTnValue: { N: String(total) },
  CustStatus: { S: options.status ?? "Elite" },
  ...(options.eliteSince === undefined ? {} : { EliteSince: { S: options.eliteSince } }),
  ...options.extra
})

const ids = (list: EliteList.EliteList) => list.rows.map((r) => r.custId)
const read = (csv: string): Array<Array<string>> => parse(csv)

describe("EliteList.fromItems", () => {
  it("lists a customer by their total, whatever the stored status says", () => {
    const list = EliteList.fromItems([
      item("stale-elite", 999, { status: "Elite" }),
      item("stale-normal", 1000, { status: "Normal" }),
      item("no-status", 5000, { status: "" }),
      item("normal", 10, { status: "Normal" }),
      { CustID: { S: "no-total" }, CustStatus: { S: "Elite" } }
    ])
    assert.sameMembers(ids(list), ["stale-normal", "no-status"])
    assert.deepStrictEqual(list.skipped, [])
  })

  it("reads the total and EliteSince into the row", () => {
    const list = EliteList.fromItems([item("c-1", "1200", { eliteSince: "2024-03-01T09:30:00.000Z" })])
    assert.deepStrictEqual(list.rows, [
      { custId: "c-1", totalTnValue: 1200, eliteSince: "2024-03-01T09:30:00.000Z", extra: new Map(), numbers: new Set<string>() }
    ])
  })

  it("puts customers without EliteSince first, then the earliest instant, ties by CustID", () => {
    const list = EliteList.fromItems([
      item("d", 1000, { eliteSince: "2024-05-01T10:00:00.500Z" }),
      item("c", 1000, { eliteSince: "2024-05-01T10:00:00Z" }),
      // The same instant as "c", written in another zone: a tie, broken by CustID.
      item("b", 1000, { eliteSince: "2024-05-01T12:00:00+02:00" }),
      // Earlier than "c" as an instant, though later as text.
      item("e", 1000, { eliteSince: "2024-05-01T11:00:00+05:00" }),
      item("z-old", 1000),
      item("a-old", 1000),
      item("f", 1000, { eliteSince: "2023-12-31T23:59:59Z" })
    ])
    assert.deepStrictEqual(ids(list), ["a-old", "z-old", "f", "e", "b", "c", "d"])
  })

  it("keeps, with since, those Elite at or after it, and none without EliteSince", () => {
    const items = [
      item("before", 1000, { eliteSince: "2024-05-31T23:59:59.999Z" }),
      item("at", 1000, { eliteSince: "2024-06-01T00:00:00.000Z" }),
      item("at-in-paris", 1000, { eliteSince: "2024-06-01T02:00:00+02:00" }),
      item("after", 1000, { eliteSince: "2024-07-15T08:00:00Z" }),
      item("untracked", 1000)
    ]
    assert.deepStrictEqual(ids(EliteList.fromItems(items, { since: new Date("2024-06-01T00:00:00Z") })), [
      "at",
      "at-in-paris",
      "after"
    ])
    assert.deepStrictEqual(ids(EliteList.fromItems(items)), ["untracked", "before", "at", "at-in-paris", "after"])
    assert.deepStrictEqual(ids(EliteList.fromItems(items, { since: undefined })), ids(EliteList.fromItems(items)))
  })

  it("renders every other attribute as text, leaving out the columns and the bookkeeping", () => {
    const [row] = EliteList.fromItems([
      item("c-1", 1500, {
        eliteSince: "2024-01-01T00:00:00Z",
        extra: {
          AppliedTn: { M: { "7": { N: "1800000000" } } },
          ProfileVersion: { N: "4" },
          Email: { S: "ada@example.com" },
          Age: { N: "36.5" },
          OptIn: { BOOL: false },
          Vip: { BOOL: true },
          Nickname: { NULL: true },
          Tags: { SS: ["gold", "early"] },
          Scores: { NS: ["1", "2.5"] },
          Avatar: { B: new Uint8Array([0, 1, 2, 253, 254, 255]) },
          Keys: { BS: [new Uint8Array([104, 105]), new Uint8Array([])] },
          Address: { M: { Zip: { S: "75001" }, City: { S: "Paris" }, Floor: { N: "3" } } },
          History: { L: [{ S: "a" }, { N: "12345678901234567890" }, { NULL: true }, { BOOL: true }, { L: [] }, { M: {} }] },
          Nested: { M: { s: { SS: ["x"] }, n: { NS: ["7"] }, b: { B: new Uint8Array([255]) } } }
        }
      })
    ]).rows
    assert.deepStrictEqual(Object.fromEntries(row?.extra ?? []), {
      Email: "ada@example.com",
      Age: "36.5",
      OptIn: "false",
      Vip: "true",
      Nickname: "",
      Tags: "gold;early",
      Scores: "1;2.5",
      Avatar: "AAEC/f7/",
      Keys: "aGk=;",
      // Keys sorted; numbers keep all their digits.
      Address: "{\"City\":\"Paris\",\"Floor\":3,\"Zip\":\"75001\"}",
      History: "[\"a\",12345678901234567890,null,true,[],{}]",
      Nested: "{\"b\":\"/w==\",\"n\":[7],\"s\":[\"x\"]}"
    })
    assert.sameMembers([...row?.numbers ?? []], ["Age"])
  })

  it("sets an unreadable item aside with a reason naming the attribute, and never throws", () => {
    const list = EliteList.fromItems([
      {},
      { CustID: { S: "" }, TotalTnValue: { N: "1200" } },
      { CustID: { N: "5" }, TotalTnValue: { N: "1200" } },
      item("fraction", "1200.5"),
      item("words", "lots"),
      item("negative", "-1200"),
      { CustID: { S: "total-as-text" }, TotalTnValue: { S: "1200" } },
      item("bad-date", 1200, { eliteSince: "yesterday" }),
      item("no-zone", 1200, { eliteSince: "2024-06-01T00:00:00" }),
      item("no-such-day", 1200, { eliteSince: "2024-02-30T00:00:00Z" }),
      item("odd-extra", 1200, { extra: { Email: { X: "?" } } }),
      item("plain-extra", 1200, { extra: { Email: "ada@example.com" } }),
      item("ok", 1200, { eliteSince: "2024-02-29T00:00:00Z" })
    ])
    assert.deepStrictEqual(ids(list), ["ok"])
    const reasons = list.skipped.map((s) => [s.custId, s.reason.split(" ")[0]])
    assert.deepStrictEqual(reasons, [
      ["", "CustID"],
      ["", "CustID.S"],
      ["", "CustID.S"],
      ["fraction", "TotalTnValue.N"],
      ["words", "TotalTnValue.N"],
      ["negative", "TotalTnValue.N"],
      ["total-as-text", "TotalTnValue.N"],
      ["bad-date", "EliteSince.S"],
      ["no-zone", "EliteSince.S"],
      ["no-such-day", "EliteSince.S"],
      ["odd-extra", "Email"],
      ["plain-extra", "Email"]
    ])
    for (const s of list.skipped) assert.isAbove(s.reason.length, s.reason.split(" ")[0]?.length ?? 0)
  })

  it("does not set aside a customer who is not Elite, however odd their other attributes", () => {
    const list = EliteList.fromItems([item("normal", 5, { eliteSince: "soon", extra: { Email: { X: "?" } } })])
    assert.deepStrictEqual(list, { rows: [], skipped: [] })
  })

  it("never throws, for any values under any attribute names", () => {
    const value = fc.oneof(fc.anything(), fc.record({ S: fc.string() }), fc.record({ N: fc.string() }))
    const items = fc.array(fc.dictionary(fc.constantFrom("CustID", "TotalTnValue", "EliteSince", "CustStatus", "X"), value))
    fc.assert(fc.property(items, (xs) => {
      const list = EliteList.fromItems(xs)
      assert.isAtMost(list.rows.length + list.skipped.length, xs.length)
    }))
  })
})

describe("EliteList.toCsv", () => {
  it("writes the fixed columns, then the union of the extra ones in name order, blanks where missing", () => {
    const list = EliteList.fromItems([
      item("c-2", 2000, { eliteSince: "2024-02-01T00:00:00Z", extra: { email: { S: "b@x" }, Zip: { S: "10115" } } }),
      item("c-1", 1000, { extra: { Phone: { S: "33 1" } } }),
      item("c-3", 3000, { eliteSince: "2024-03-01T00:00:00Z" })
    ])
    assert.deepStrictEqual(read(EliteList.toCsv(list.rows)), [
      ["CustID", "TotalTnValue", "EliteSince", "Phone", "Zip", "email"],
      ["c-1", "1000", "", "33 1", "", ""],
      ["c-2", "2000", "2024-02-01T00:00:00Z", "", "10115", "b@x"],
      ["c-3", "3000", "2024-03-01T00:00:00Z", "", "", ""]
    ])
  })

  it("writes only the header for an empty list, with CRLF line ends", () => {
    assert.strictEqual(EliteList.toCsv([]), "CustID,TotalTnValue,EliteSince\r\n")
  })

  it("prefixes with ' every cell a spreadsheet would run as a formula, header included (OWASP's CSV injection list)", () => {
    const list = EliteList.fromItems([
      item("=evil", 1000, {
        extra: {
          Name: { S: "=HYPERLINK(\"http://x.example\",\"click\")" },
          Note: { S: "@SUM(A1:A9)" },
          Phone: { S: "+33 1 23" },
          Debt: { S: "-2+3" },
          Tab: { S: "\tlead" },
          Cr: { S: "\rlead" },
          "=cmd|' /C calc'!A0": { S: "x" },
          Safe: { S: "a=1, -2 @3" }
        }
      })
    ])
    assert.deepStrictEqual(read(EliteList.toCsv(list.rows)), [
      ["CustID", "TotalTnValue", "EliteSince", "'=cmd|' /C calc'!A0", "Cr", "Debt", "Name", "Note", "Phone", "Safe", "Tab"],
      ["'=evil", "1000", "", "x", "'\rlead", "'-2+3", "'=HYPERLINK(\"http://x.example\",\"click\")", "'@SUM(A1:A9)", "'+33 1 23", "a=1, -2 @3", "'\tlead"]
    ])
    assert.strictEqual(EliteList.neutralisedCells(list.rows), 8)
  })

  it("keeps numbers exact: TotalTnValue and N attributes that read as a number, but not text that looks like one", () => {
    const [row] = EliteList.fromItems([
      item("c-1", 1000, {
        extra: { Balance: { N: "-5" }, Rate: { N: "-0.25" }, Big: { N: "-1E+3" }, Code: { S: "-5" }, Scores: { NS: ["-1", "2"] } }
      })
    ]).rows
    assert.isDefined(row)
    const rows = row === undefined ? [] : [row, { ...row, custId: "c-2", totalTnValue: -5 }]
    assert.deepStrictEqual(read(EliteList.toCsv(rows)), [
      ["CustID", "TotalTnValue", "EliteSince", "Balance", "Big", "Code", "Rate", "Scores"],
      ["c-1", "1000", "", "-5", "-1E+3", "'-5", "-0.25", "'-1;2"],
      ["c-2", "-5", "", "-5", "-1E+3", "'-5", "-0.25", "'-1;2"]
    ])
    assert.strictEqual(EliteList.neutralisedCells(rows), 4)
    assert.strictEqual(EliteList.neutralisedCells([]), 0)
  })

  it("writes every cell exactly as stored with raw", () => {
    const list = EliteList.fromItems([item("=evil", 1000, { extra: { "@Name": { S: "=1+1" }, Code: { S: "-5" }, Tab: { S: "\tx" } } })])
    assert.deepStrictEqual(read(EliteList.toCsv(list.rows, { raw: true })), [
      ["CustID", "TotalTnValue", "EliteSince", "@Name", "Code", "Tab"],
      ["=evil", "1000", "", "=1+1", "-5", "\tx"]
    ])
  })

  it("leaves no cell a spreadsheet would run, and changes a cell only by a leading ', for any S extras", () => {
    const risky = fc.string({ unit: fc.constantFrom("=", "+", "-", "@", "\t", "\r", "\n", ",", "\"", "'", "1", "a", " ") })
    const profile = fc.record({ name: fc.constantFrom("Name", "=Name", "-x"), value: risky })
    fc.assert(fc.property(fc.array(profile, { maxLength: 6 }), (profiles) => {
      const list = EliteList.fromItems(profiles.map((p, i) => item(`c-${i}`, 1000, { extra: { [p.name]: { S: p.value } } })))
      const raw = read(EliteList.toCsv(list.rows, { raw: true }))
      const safe = read(EliteList.toCsv(list.rows))
      assert.strictEqual(safe.length, raw.length)
      for (const [r, cells] of safe.entries()) {
        for (const [c, cell] of cells.entries()) {
          const exact = raw[r]?.[c] ?? ""
          assert.isFalse(/^[=+\-@\t\r]/.test(cell), JSON.stringify(cell))
          assert.strictEqual(cell, /^[=+\-@\t\r]/.test(exact) ? `'${exact}` : exact)
        }
      }
    }))
  })

  it("reads back exactly, awkward text included", () => {
    const awkward = ["Lovelace, Ada", "say \"hi\"", "two\nlines", "cr\ronly", "crlf\r\nend", " padded ", "", "café", "中文", "🎉👩‍👩‍👧"]
    const rows: Array<EliteList.EliteRow> = awkward.map((v, i) => ({
      custId: `${v}#${i}`,
      totalTnValue: 1000 + i,
      eliteSince: undefined,
      extra: new Map([["Name", v], [v === "" ? "Blank" : `col ${v}`, v]]),
      numbers: new Set<string>()
    }))
    const table = read(EliteList.toCsv(rows, { raw: true }))
    const header = table[0] ?? []
    assert.deepStrictEqual(header.slice(0, 3), ["CustID", "TotalTnValue", "EliteSince"])
    assert.strictEqual(header.length, 3 + 1 + awkward.length)
    for (const [i, row] of rows.entries()) {
      const cells = new Map(header.map((name, c) => [name, table[i + 1]?.[c]]))
      assert.strictEqual(cells.get("CustID"), row.custId)
      assert.strictEqual(cells.get("TotalTnValue"), String(row.totalTnValue))
      assert.strictEqual(cells.get("EliteSince"), "")
      for (const name of header.slice(3)) assert.strictEqual(cells.get(name), row.extra.get(name) ?? "", name)
    }
  })

  it("reads back exactly what fromItems listed, for any S extras", () => {
    const names = fc.constantFrom("Email", "FirstName", "note, free text", "Ünïcode 中文", " spaced ")
    const profile = fc.record({
      custId: fc.string({ minLength: 1 }),
      total: fc.integer({ min: 1000, max: 1_000_000 }),
      extra: fc.dictionary(names, fc.string({ unit: "grapheme" }))
    })
    fc.assert(fc.property(fc.uniqueArray(profile, { selector: (p) => p.custId, maxLength: 10 }), (profiles) => {
      const list = EliteList.fromItems(profiles.map((p) =>
        item(p.custId, p.total, { extra: Object.fromEntries(Object.entries(p.extra).map(([k, v]) => [k, { S: v }])) })
      ))
      const [header = [], ...body] = read(EliteList.toCsv(list.rows, { raw: true }))
      assert.strictEqual(body.length, profiles.length)
      // No EliteSince anywhere: the order is CustID's, in code units.
      assert.deepStrictEqual(body.map((cells) => cells[0]), profiles.map((p) => p.custId).sort())
      const extraNames = [...new Set(profiles.flatMap((p) => Object.keys(p.extra)))]
      assert.sameMembers(header.slice(3), extraNames)
      for (const cells of body) {
        const p = profiles.find((q) => q.custId === cells[0])
        assert.isDefined(p)
        assert.strictEqual(cells[1], String(p?.total))
        for (const [c, name] of header.entries()) if (c >= 3) assert.strictEqual(cells[c], p?.extra[name] ?? "")
      }
    }))
  })
})
