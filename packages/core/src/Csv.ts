/**
 * CSV text as RFC 4180 writes it: CRLF after every record, fields quoted only when they must be,
 * quotes doubled inside. UTF-8 without a BOM; cells are strings, written as given.
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
