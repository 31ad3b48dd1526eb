import * as LocalConfig from "@dyna/tools/local/LocalConfig"
import { createReadStream, existsSync, readFileSync, statSync, watchFile } from "node:fs"
import { parse, runScript } from "./runScript.js"

const usage = `Usage: pnpm local:logs [--follow] [--lines N]

Shows the local runner's log (.dyna/runner.log): the runner's own lines and the function's, one
JSON object per line, as CloudWatch would keep them.

  -f, --follow   keep printing new lines as they come (Ctrl-C to stop)
  -n, --lines N  how many of the last lines to show first (default 50)`

const { values } = parse(usage, { follow: { type: "boolean", short: "f" }, lines: { type: "string", short: "n", default: "50" } })
const lines = Number(values.lines)
if (!Number.isSafeInteger(lines) || lines < 0) {
  console.error(`error: --lines must be a whole number, not ${values.lines}\n\n${usage}`)
  process.exit(2)
}

const { runner } = await runScript(LocalConfig.settings)
if (!existsSync(runner.logFile)) {
  console.error(`error: no log at ${runner.logFile} yet; \`pnpm provision\` starts the runner`)
  process.exit(1)
}

const text = readFileSync(runner.logFile, "utf8")
const last = text.trimEnd().split("\n").slice(-lines).join("\n")
if (lines > 0 && last !== "") console.log(last)

if (values.follow === true) {
  let offset = Buffer.byteLength(text)
  watchFile(runner.logFile, { interval: 200 }, () => {
    const end = statSync(runner.logFile).size
    if (end < offset) offset = 0 // the log was cleared: start again from its top
    if (end > offset) createReadStream(runner.logFile, { start: offset, end: end - 1 }).pipe(process.stdout, { end: false })
    offset = end
  })
}
