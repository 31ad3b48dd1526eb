/**
 * CSV text as RFC 4180 writes it: CRLF after every record, fields quoted only when they must be,
 * quotes doubled inside. UTF-8 without a BOM; cells are strings, written as given. {@link neutralise}
 * is the defence against CSV (formula) injection that callers apply to cells before encoding.
 *
 * @since 0.1.0
 */

/**
 * A line break between records, and after the last one.
 *
 * @since 0.1.0
 * @category constants
 */
export const CRLF = "\r\n"

// Comma, quote, CR, LF: RFC 4180's reasons to quote. A space or tab at either end is kept by RFC 4180
// too, but spreadsheet imports and parsers with a "trim" option drop it; quoted, it survives them.
const needsQuotes = /[",\r\n]|^[ \t]|[ \t]$/

/**
 * One field as it appears in a record: as is, or between double quotes (with each `"` doubled) when it
 * holds a comma, a double quote, a CR or an LF, or starts or ends with a space or a tab.
 *
 * @since 0.1.0
 * @category encoding
 */
export const field = (value: string): string =>
  needsQuotes.test(value) ? `"${value.replaceAll("\"", "\"\"")}"` : value

/**
 * One record, without its line break. A record of a single empty field is written `""`: written bare it
 * would be an empty line, which readers skip or take as no record.
 *
 * @since 0.1.0
 * @category encoding
 */
export const record = (fields: ReadonlyArray<string>): string =>
  fields.length === 1 && fields[0] === "" ? "\"\"" : fields.map(field).join(",")

/**
 * A whole CSV document: the header, then each row, every record ended by CRLF. Rows are written as
 * given; keeping them as wide as the header is the caller's part.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [header, ...rows].map((fields) => record(fields) + CRLF).join("")

// OWASP's CSV injection list: a spreadsheet takes a cell starting with one of these as a formula.
const formulaStart = /^[=+\-@\t\r]/

// A number as DynamoDB writes an N: no formula can be made of it, and a spreadsheet reads it as that number.
const plainNumber = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/**
 * Whether a spreadsheet opening the cell would take it as a formula (it starts with `=`, `+`, `-`, `@`,
 * a tab or a CR, OWASP's CSV injection list).
 *
 * @since 0.1.0
 * @category formulas
 */
export const isFormulaLike = (value: string): boolean => formulaStart.test(value)

/**
 * A cell made safe to open in a spreadsheet (OWASP's CSV injection advice): one that starts with `=`, `+`,
 * `-`, `@`, a tab or a CR gets a leading `'`, which spreadsheets read as "text" and do not evaluate.
 * With `numeric`, the caller knows the cell holds a number (a DynamoDB N): when it reads as a plain
 * decimal number (`-5`, `-0.25`, `-1e3`) it is left exact, since a number can run no formula; anything
 * else in it is still prefixed.
 *
 * @since 0.1.0
 * @category formulas
 */
export const neutralise = (value: string, options?: { readonly numeric?: boolean | undefined }): string =>
  !isFormulaLike(value) || (options?.numeric === true && plainNumber.test(value)) ? value : `'${value}`
