/**
 * Logging: one JSON object per line (what CloudWatch and `jq` read), the level from `LOG_LEVEL`
 * (Effect's names: `Debug`, `Info`, `Warn`, `Error`).
 */
import * as Config from "effect/Config"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"

const level = Layer.effect(References.MinimumLogLevel, Config.LogLevel("LOG_LEVEL").pipe(Config.withDefault("Info")))

export const layer = Layer.mergeAll(Logger.layer([Logger.consoleJson]), level)
