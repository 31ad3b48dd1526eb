/**
 * Logging: one JSON object per line (what CloudWatch and `jq` read), the level from `LOG_LEVEL`.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import * as Environment from "./Environment.js"

const levels = ["All", "Trace", "Debug", "Info", "Warn", "Error", "Fatal", "None"] as const

/**
 * Effect's level names in any case: Lambda and Powertools users write `DEBUG`, and a log level must
 * never be the reason a function fails to start. Unknown names still fail, listing the valid ones.
 */
export const LogLevel = Schema.String.pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transform({
      decode: (s) => levels.find((level) => level.toLowerCase() === s.trim().toLowerCase()) ?? s,
      encode: (s) => s
    })
  ),
  Schema.decodeTo(Schema.Literals(levels))
)

const level = Layer.effect(
  References.MinimumLogLevel,
  Environment.decode(Schema.Struct({ LOG_LEVEL: LogLevel.pipe(Schema.withDecodingDefault(Effect.succeed("Info"))) })).pipe(
    Effect.map((settings) => settings.LOG_LEVEL)
  )
)

/** For Lambda: JSON lines on stdout, which CloudWatch keeps. */
export const layer = Layer.mergeAll(Logger.layer([Logger.consoleJson]), level)

/** For command-line tools: the same JSON lines on stderr, so stdout carries only the command's answer. */
export const stderr = Layer.mergeAll(Logger.layer([Logger.withConsoleError(Logger.formatJson)]), level)
