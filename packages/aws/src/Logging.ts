/**
 * Logging: one JSON object per line (what CloudWatch and `jq` read), the level from `LOG_LEVEL`
 * (Effect's names: `Debug`, `Info`, `Warn`, `Error`).
 */
import * as Config from "effect/Config"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"

const level = Layer.effect(References.MinimumLogLevel, Config.LogLevel("LOG_LEVEL").pipe(Config.withDefault("Info")))

/** For Lambda: JSON lines on stdout, which CloudWatch keeps. */
export const layer = Layer.mergeAll(Logger.layer([Logger.consoleJson]), level)

/** For command-line tools: the same JSON lines on stderr, so stdout carries only the command's answer. */
export const stderr = Layer.mergeAll(Logger.layer([Logger.withConsoleError(Logger.formatJson)]), level)
