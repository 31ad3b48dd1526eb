/**
 * The environment variables every layer reads its settings from, decoded with Schema like any other
 * boundary: `process.env` in Lambda; the tools and tests give a record of their own (flags over the
 * shell's variables over the local stack's defaults). A bad value fails naming its variable.
 */
import * as Issue from "@dyna/core/Issue"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

/** Variables by name, as `process.env` holds them. */
export type Variables = { readonly [name: string]: string | undefined }

/** The variables in use: `process.env` unless a layer gives others. */
export const Environment = Context.Reference<Variables>("dyna-elite/aws/Environment", { defaultValue: () => process.env })

/** Settings from `variables` instead of `process.env`. */
export const layer = (variables: Variables) => Layer.succeed(Environment, variables)

/** Set to something: `X=` counts as unset, as it does for the AWS CLI. */
const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== ""

/**
 * `layers` merged, each over the ones before it (flags over the shell over defaults); a variable set to
 * nothing (`X=`) hides nothing, as it counts as unset.
 */
export const merge = (...layers: ReadonlyArray<Variables>): Variables =>
  Object.assign({}, ...layers.map((variables) => Object.fromEntries(Object.entries(variables).filter(([, value]) => isSet(value)))))

/** A variable was unset where a setting is required, or set to a value its setting cannot take. */
export class SettingError extends Schema.TaggedError<SettingError>()("SettingError", {
  variable: Schema.String,
  /** What is wrong with it, as a person fixes it. */
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/**
 * The settings `schema` decodes from the variables: a struct keyed by variable name, whose fields give
 * their defaults (`Schema.withDecodingDefault`); its first problem names the variable.
 */
export const decode = <S extends Schema.Decoder<unknown>>(schema: S) =>
  Environment.use((variables) =>
    Schema.decodeUnknownEffect(schema)(variables).pipe(
      Effect.mapError((error) => {
        const { field, message } = Issue.first(error.issue)
        const value = variables[field]
        return new SettingError({
          variable: field,
          reason: `${field}${value === undefined ? "" : `=${JSON.stringify(value)}`}: ${message}`
        })
      })
    )
  )

/** A variable's value when it is set to something. */
export const optional = (variable: string) =>
  Environment.useSync((variables): string | undefined => {
    const value = variables[variable]
    return isSet(value) ? value : undefined
  })

/** A variable's value, or `fallback` when it is unset. */
export const orDefault = (variable: string, fallback: string) =>
  Effect.map(optional(variable), (value) => value ?? fallback)

/** A variable's value, or `SettingError` with `whenUnset` as its message. */
export const required = (variable: string, whenUnset: string) =>
  Effect.flatMap(
    optional(variable),
    (value) => value === undefined ? Effect.fail(new SettingError({ variable, reason: whenUnset })) : Effect.succeed(value)
  )
