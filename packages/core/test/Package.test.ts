/**
 * The published shape: `tsc` builds `dist/` with declarations, and a project elsewhere imports the
 * core through the `exports` map, at run time (Node) and at type-check time (TypeScript), with no
 * `source` condition to fall back on.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const tsc = resolve(packageDir, "../../node_modules/.bin/tsc")

/** Runs a command; on failure the error carries what it printed. */
const run = (file: string, args: ReadonlyArray<string>, cwd: string) => {
  try {
    return execFileSync(file, args, { cwd, encoding: "utf8", stdio: "pipe" })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    throw new Error(`${file} ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`)
  }
}

let work: string
let consumer: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "dyna-core-"))
  // What `pnpm --filter @dyna/core build` does.
  run(tsc, ["-p", join(packageDir, "tsconfig.build.json")], packageDir)

  consumer = join(work, "consumer")
  mkdirSync(join(consumer, "node_modules", "@dyna"), { recursive: true })
  symlinkSync(packageDir, join(consumer, "node_modules", "@dyna", "core"))
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ type: "module" }))
}, 120_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe("@dyna/core as another project sees it", () => {
  it("imports statusFor from the package root at run time", () => {
    const out = run(process.execPath, [
      "--input-type=module",
      "-e",
      `import { statusFor, THRESHOLD_DOLLARS, Plan } from "@dyna/core"
       import { decode } from "@dyna/core/StreamRecord"
       console.log(JSON.stringify([statusFor(999), statusFor(1000), THRESHOLD_DOLLARS, typeof Plan.make, typeof decode]))`
    ], consumer)
    assert.deepStrictEqual(JSON.parse(out), ["Normal", "Elite", 1000, "function", "function"])
  })

  it("type-checks against the built declarations", () => {
    writeFileSync(join(consumer, "use.ts"), `
      import { statusFor, type Profile } from "@dyna/core"
      import type { Status } from "@dyna/core/Profile"
      const s: Status = statusFor(1200)
      export const p: Pick<Profile.Profile, "custStatus"> = { custStatus: s }
      // @ts-expect-error: the status is a closed set
      export const bad: Status = "Gold"
    `)
    writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify({
      compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ["use.ts"]
    }))
    run(tsc, ["-p", join(consumer, "tsconfig.json")], consumer)
  })
})
