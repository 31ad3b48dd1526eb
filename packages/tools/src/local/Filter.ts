/**
 * The mapping's filter criteria: EventBridge-style patterns of exact values, parsed once and matched
 * against each stream record as Lambda delivers it. Operators the runner does not implement are
 * refused when it starts, never silently ignored.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/** A filter pattern the runner cannot apply as Lambda would: malformed, or using an operator it lacks. */
export class FilterError extends Schema.TaggedError<FilterError>()("FilterError", {
  pattern: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `filter pattern ${this.pattern} cannot be used by the local runner: ${this.reason}`
  }
}

/** A value a pattern accepts: a JSON scalar, compared by type and value. */
export type Literal = string | number | boolean | null

/** One level of a pattern: either fields to descend into, or the values accepted at a leaf. */
export type Node =
  | { readonly _tag: "Fields"; readonly fields: ReadonlyArray<readonly [key: string, node: Node]> }
  | { readonly _tag: "Values"; readonly values: ReadonlyArray<Literal> }

/** The parsed filter: a record passes when any pattern matches; no patterns lets every record pass. */
export type Filter = ReadonlyArray<Node>

const isLiteral = (u: unknown): u is Literal =>
  u === null || typeof u === "string" || typeof u === "number" || typeof u === "boolean"

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The operator named by a pattern value such as `{"prefix": "IN"}`, for the error message. */
const operatorOf = (u: Readonly<Record<string, unknown>>) => Object.keys(u)[0] ?? "{}"

const parseNode = (value: unknown, path: string): Result.Result<Node, string> => {
  if (Array.isArray(value)) {
    if (value.length === 0) return Result.fail(`${path}: an empty list of values matches nothing`)
    const values: Array<Literal> = []
    for (const v of value) {
      if (isObject(v)) return Result.fail(`${path}: the "${operatorOf(v)}" operator is not supported (only exact values are)`)
      if (!isLiteral(v)) return Result.fail(`${path}: values must be strings, numbers, booleans or null`)
      values.push(v)
    }
    return Result.succeed({ _tag: "Values", values })
  }
  if (!isObject(value)) return Result.fail(`${path}: expected an object or a list of values, got ${JSON.stringify(value)}`)
  const entries = Object.entries(value)
  if (entries.length === 0) return Result.fail(`${path || "the pattern"}: an empty object`)
  const fields: Array<readonly [string, Node]> = []
  for (const [key, child] of entries) {
    if (key.startsWith("$")) return Result.fail(`${path ? `${path}.` : ""}${key}: the "${key}" operator is not supported`)
    const node = parseNode(child, path ? `${path}.${key}` : key)
    if (Result.isFailure(node)) return node
    fields.push([key, node.success])
  }
  return Result.succeed({ _tag: "Fields", fields })
}

/** Parses one pattern (JSON text, as `FilterCriteria.Filters[].Pattern` holds it). */
export const parse = (pattern: string): Result.Result<Node, FilterError> => {
  let json: unknown
  try {
    json = JSON.parse(pattern)
  } catch (e) {
    return Result.fail(new FilterError({ pattern, reason: `not JSON (${e instanceof Error ? e.message : String(e)})` }))
  }
  if (!isObject(json)) return Result.fail(new FilterError({ pattern, reason: "a pattern must be a JSON object" }))
  return parseNode(json, "").pipe(Result.mapError((reason) => new FilterError({ pattern, reason })))
}

/** Parses every pattern of a mapping; the first one that cannot be applied fails the lot. */
export const parseAll = (patterns: ReadonlyArray<string>): Result.Result<Filter, FilterError> => {
  const nodes: Array<Node> = []
  for (const pattern of patterns) {
    const node = parse(pattern)
    if (Result.isFailure(node)) return Result.fail(node.failure)
    nodes.push(node.success)
  }
  return Result.succeed(nodes)
}

/** A leaf matches a scalar equal to one of its values, or a list holding one (as EventBridge matches). */
const matchesValues = (values: ReadonlyArray<Literal>, actual: unknown): boolean =>
  Array.isArray(actual) ? actual.some((a) => matchesValues(values, a)) : values.some((v) => v === actual)

const matchesNode = (node: Node, actual: unknown): boolean => {
  if (node._tag === "Values") return matchesValues(node.values, actual)
  return isObject(actual) && node.fields.every(([key, child]) => key in actual && matchesNode(child, actual[key]))
}

/** Whether a record (shaped as Lambda delivers it) passes the filter. */
export const matches = (filter: Filter, record: unknown): boolean =>
  filter.length === 0 || filter.some((node) => matchesNode(node, record))
