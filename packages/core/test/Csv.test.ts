import { type Options, parse } from "csv-parse/sync"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"
import * as Csv from "../src/Csv.js"

/** Reads CSV back the way a consumer would: csv-parse with its defaults, records as string arrays. */
const read = (csv: string | Buffer, options: Options = {}): Array<Array<string>> => parse(csv, options)

const awkward = [
  "plain",
  "",
  "a,b",
  "say \"hi\"",
  "\"",
  "\"\"",
  "line\nbreak",
  "carriage\rreturn",
  "windows\r\nline",
  "\r\n",
  " leading",
  "trailing ",
  "  ",
  "\ttab\t",
  "café",
  "中文",
  "🎉 party, \"now\"",
  "👩‍👩‍👧",
  ";semi;colon;",
  "=1+1"
]

describe("Csv.field", () => {
  it("leaves a field without special characters as it is", () => {
    assert.strictEqual(Csv.field("Ada Lovelace"), "Ada Lovelace")
    assert.strictEqual(Csv.field(""), "")
    assert.strictEqual(Csv.field("café 中文 🎉"), "café 中文 🎉")
  })

  it("quotes a comma, a quote, CR and LF, doubling the quotes (RFC 4180, 2.6 and 2.7)", () => {
    assert.strictEqual(Csv.field("a,b"), "\"a,b\"")
    assert.strictEqual(Csv.field("say \"hi\""), "\"say \"\"hi\"\"\"")
    assert.strictEqual(Csv.field("\""), "\"\"\"\"")
    assert.strictEqual(Csv.field("x\ny"), "\"x\ny\"")
    assert.strictEqual(Csv.field("x\ry"), "\"x\ry\"")
    assert.strictEqual(Csv.field("x\r\ny"), "\"x\r\ny\"")
  })

  it("quotes a space or a tab at either end, and only there", () => {
    assert.strictEqual(Csv.field(" a"), "\" a\"")
    assert.strictEqual(Csv.field("a "), "\"a \"")
    assert.strictEqual(Csv.field("\ta"), "\"\ta\"")
    assert.strictEqual(Csv.field("a b"), "a b")
  })
})

describe("Csv.encode", () => {
  it("writes the header and each row, every record ended by CRLF", () => {
    assert.strictEqual(
      Csv.encode(["CustID", "Name"], [["c-1", "Ada"], ["c-2", "Lovelace, Ada"]]),
      "CustID,Name\r\nc-1,Ada\r\nc-2,\"Lovelace, Ada\"\r\n"
    )
  })

  it("writes only the header when there are no rows", () => {
    assert.strictEqual(Csv.encode(["a", "b"], []), "a,b\r\n")
  })

  it("writes no byte order mark", () => {
    assert.isFalse(Csv.encode(["é"], [["中文"]]).startsWith("\uFEFF"))
  })

  it("reads back exactly, awkward values included", () => {
    const header = ["value", "again", "last"]
    const rows = awkward.map((v, i) => [v, `${v}${v}`, awkward[(i + 1) % awkward.length] ?? ""])
    const csv = Csv.encode(header, rows)
    assert.deepStrictEqual(read(csv), [header, ...rows])
    // Read as UTF-8 bytes, as a file would be.
    assert.deepStrictEqual(read(Buffer.from(csv, "utf8")), [header, ...rows])
  })

  it("keeps a row of one empty field, even for a reader that skips empty lines", () => {
    const csv = Csv.encode(["note"], [[""], ["x"], [""]])
    assert.deepStrictEqual(read(csv, { skip_empty_lines: true }), [["note"], [""], ["x"], [""]])
  })

  it("keeps spaces at the ends of a field, even for a reader that trims", () => {
    const rows = [[" x ", "\ty\t", "  "]]
    assert.deepStrictEqual(read(Csv.encode(["a", "b", "c"], rows), { trim: true }), [["a", "b", "c"], ...rows])
  })

  it("reads back exactly, for any table of strings", () => {
    const cell = fc.oneof(
      fc.string({ unit: "grapheme" }),
      fc.string({ unit: fc.constantFrom(",", "\"", "\r", "\n", " ", "\t", "a", "é", "中", "🎉") })
    )
    const table = fc.integer({ min: 1, max: 5 }).chain((width) =>
      fc.tuple(fc.array(cell, { minLength: width, maxLength: width }), fc.array(fc.array(cell, { minLength: width, maxLength: width }), { maxLength: 8 }))
    )
    fc.assert(fc.property(table, ([header, rows]) => {
      assert.deepStrictEqual(read(Csv.encode(header, rows)), [header, ...rows])
    }), { numRuns: 300 })
  })
})

describe("Csv.neutralise", () => {
  it("prefixes with ' a cell that starts with =, +, -, @, a tab or a CR (OWASP's CSV injection list)", () => {
    for (const v of ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "=", "-"]) {
      assert.isTrue(Csv.isFormulaLike(v), JSON.stringify(v))
      assert.strictEqual(Csv.neutralise(v), `'${v}`)
    }
  })

  it("leaves every other cell as it is, a formula character later in the text included", () => {
    for (const v of ["", "Ada", " =1", "a=1", "'=1", "1-2", "\n=1", "42"]) {
      assert.isFalse(Csv.isFormulaLike(v), JSON.stringify(v))
      assert.strictEqual(Csv.neutralise(v), v)
    }
  })

  it("keeps a number exact in a cell known to be numeric, and only a number", () => {
    for (const v of ["-5", "-0.25", "-.5", "-1e3", "-1E+30", "-12345678901234567890123456789012345678"]) {
      assert.strictEqual(Csv.neutralise(v, { numeric: true }), v)
      assert.strictEqual(Csv.neutralise(v), `'${v}`)
    }
    for (const v of ["-5+1", "-5;-6", "-", "-e3", "+5", "-5 ", "-1e", "=5"]) {
      assert.strictEqual(Csv.neutralise(v, { numeric: true }), `'${v}`, JSON.stringify(v))
    }
  })

  it("reads back as the value behind a single ', whatever else the cell holds", () => {
    const cells = ["=HYPERLINK(\"http://x\",\"a, b\")", "-2+3\r\nmore", "\t tab", "@x"]
    const [header, row] = read(Csv.encode(["a", "b", "c", "d"], [cells.map((v) => Csv.neutralise(v))]))
    assert.deepStrictEqual(header, ["a", "b", "c", "d"])
    assert.deepStrictEqual(row, cells.map((v) => `'${v}`))
  })
})
