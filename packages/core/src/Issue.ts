/**
 * Schema issues as short, readable `field: message` pairs, for error records and logs.
 *
 * @since 0.1.0
 */
import type * as SchemaIssue from "effect/SchemaIssue"
import { makeFormatterStandardSchemaV1 } from "effect/SchemaIssue"

/**
 * One problem with an input: the dotted path of the field at fault and what is wrong with it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Problem {
  readonly field: string
  readonly message: string
}

const formatter = makeFormatterStandardSchemaV1()

const segment = (s: PropertyKey | { readonly key: PropertyKey }): string =>
  String(typeof s === "object" ? s.key : s)

/**
 * Every problem an issue holds, in the order the schema found them.
 *
 * @since 0.1.0
 * @category formatting
 */
export const problems = (issue: SchemaIssue.Issue): ReadonlyArray<Problem> =>
  formatter(issue).issues.map((i) => ({
    field: (i.path ?? []).map(segment).join(".") || "(record)",
    message: i.message
  }))

/**
 * The first problem an issue holds: a record is reported by its first fault.
 *
 * @since 0.1.0
 * @category formatting
 */
export const first = (issue: SchemaIssue.Issue): Problem =>
  problems(issue)[0] ?? { field: "(record)", message: "is invalid" }
