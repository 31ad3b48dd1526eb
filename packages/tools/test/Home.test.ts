/**
 * DYNA_HOME as the project's own folder: provision's claim, and the deletions teardown and local:stop
 * make, tried on fake homes in a temporary folder (never the real $HOME).
 */
import * as Environment from "@dyna/aws/Environment"
import * as Effect from "effect/Effect"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as Home from "../src/local/Home.js"
import * as LocalConfig from "../src/local/LocalConfig.js"

const root = mkdtempSync(join(tmpdir(), "home-test-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const folder = () => mkdtempSync(join(root, "case-"))

/** Every file and folder under `dir` with its content, to show nothing changed. */
const snapshot = (dir: string): Array<string> =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).sort().map((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? `${name}/` : `${name}: ${readFileSync(path, "utf8")}`
  })

/** A user's home, holding files under the very names the local stack uses. */
const fakeUserHome = () => {
  const home = folder()
  writeFileSync(join(home, ".bashrc"), "export PATH\n")
  mkdirSync(join(home, "data"))
  writeFileSync(join(home, "data", "thesis.tex"), "\\chapter{One}\n")
  mkdirSync(join(home, "function"))
  writeFileSync(join(home, "function", "index.mjs"), "// my own code\n")
  mkdirSync(join(home, "runner"))
  writeFileSync(join(home, "runner", "checkpoints.json"), "{\"mine\":true}\n")
  writeFileSync(join(home, "runner.log"), "my log\n")
  return home
}

/** The paths `pnpm teardown --delete-data` removes, as LocalConfig computes them for that DYNA_HOME. */
const teardownPaths = (home: string) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const { functionDir, runner, dataDir } = yield* LocalConfig.settings
      return [runner.mappingFile, runner.script, runner.statusFile, functionDir, runner.checkpointFile, runner.onFailureFile, dataDir]
    }).pipe(Effect.provide(Environment.layer({ DYNA_HOME: home })))
  )

const failure = <A>(effect: Effect.Effect<A, Home.HomeError>) => Effect.runPromise(Effect.flip(effect))

describe("Home.claim", () => {
  it("makes and marks a new folder, marks an empty one, and keeps a marked one", async () => {
    const fresh = join(folder(), ".dyna")
    assert.strictEqual(await Effect.runPromise(Home.claim(fresh)), "created")
    assert.deepStrictEqual(readdirSync(fresh), [Home.MARKER])
    assert.strictEqual(await Effect.runPromise(Home.claim(fresh)), "ours")
    const empty = folder()
    assert.strictEqual(await Effect.runPromise(Home.claim(empty)), "marked")
    assert.isTrue(Home.isOurs(empty))
  })

  it("refuses a folder holding the user's files, DYNA_HOME=$HOME, and writes nothing there", async () => {
    const home = fakeUserHome()
    const before = snapshot(home)
    const error = await failure(Home.claim(home))
    assert.strictEqual(error._tag, "HomeError")
    assert.include(error.message, home)
    assert.include(error.message, "new or empty folder")
    assert.deepStrictEqual(snapshot(home), before)
  })

  it("claims a .dyna an earlier version made, holding only the local stack's own names", async () => {
    const home = folder()
    mkdirSync(join(home, "data"))
    mkdirSync(join(home, "runner"))
    writeFileSync(join(home, "dynamodb.pid"), "12345\n")
    assert.strictEqual(await Effect.runPromise(Home.claim(home)), "marked")
  })
})

describe("Home.removeOwned", () => {
  it("deletes the paths that exist inside a marked home, and only those", async () => {
    const home = folder()
    await Effect.runPromise(Home.claim(home))
    mkdirSync(join(home, "function"))
    writeFileSync(join(home, "function", "index.mjs"), "export const handler = 1\n")
    mkdirSync(join(home, "data"))
    writeFileSync(join(home, "data", "shared-local-instance.db"), "db")
    const removed = await Effect.runPromise(Home.removeOwned(home, [join(home, "function"), join(home, "runner", "status.json")]))
    assert.deepStrictEqual(removed.map((p) => relative(home, p)), ["function"])
    assert.deepStrictEqual(readdirSync(home).sort(), [Home.MARKER, "data"].sort())
  })

  it("deletes nothing in a home without the marker, even one holding only the stack's names", async () => {
    const home = folder()
    mkdirSync(join(home, "data"))
    writeFileSync(join(home, "data", "shared-local-instance.db"), "db")
    const error = await failure(Home.removeOwned(home, [join(home, "data")]))
    assert.include(error.message, `no ${Home.MARKER}`)
    assert.isTrue(existsSync(join(home, "data", "shared-local-instance.db")))
  })

  it("deletes nothing of the user's for teardown --delete-data with DYNA_HOME=$HOME", async () => {
    const home = fakeUserHome()
    const before = snapshot(home)
    const error = await failure(Home.removeOwned(home, await teardownPaths(home)))
    assert.include(error.message, `no ${Home.MARKER}`)
    assert.deepStrictEqual(snapshot(home), before)
  })

  it("deletes nothing when DYNA_HOME does not exist", async () => {
    const home = join(folder(), "never-made")
    assert.deepStrictEqual(await Effect.runPromise(Home.removeOwned(home, await teardownPaths(home))), [])
    assert.isFalse(existsSync(home))
  })

  it("refuses a path outside the home, or the home itself, before deleting anything", async () => {
    const home = folder()
    await Effect.runPromise(Home.claim(home))
    writeFileSync(join(home, "runner.log"), "log\n")
    const neighbour = folder()
    writeFileSync(join(neighbour, "keep.txt"), "keep\n")
    for (const path of [join(home, "..", relative(root, neighbour)), home, neighbour]) {
      const error = await failure(Home.removeOwned(home, [join(home, "runner.log"), path]))
      assert.include(error.message, "not inside DYNA_HOME")
    }
    assert.isTrue(existsSync(join(home, "runner.log")))
    assert.isTrue(existsSync(join(neighbour, "keep.txt")))
  })

  it("does not follow a link inside the home that leads out of it", async () => {
    const home = folder()
    await Effect.runPromise(Home.claim(home))
    const elsewhere = folder()
    writeFileSync(join(elsewhere, "checkpoints.json"), "{\"mine\":true}\n")
    symlinkSync(elsewhere, join(home, "runner"))
    const error = await failure(Home.removeOwned(home, [join(home, "runner", "checkpoints.json")]))
    assert.include(error.message, "leads out of DYNA_HOME")
    assert.strictEqual(readFileSync(join(elsewhere, "checkpoints.json"), "utf8"), "{\"mine\":true}\n")
  })

  it("takes only a regular marker file with the project's text as the mark", async () => {
    const marked = folder()
    Home.mark(marked)
    const linked = folder()
    symlinkSync(join(marked, Home.MARKER), join(linked, Home.MARKER))
    const forged = folder()
    writeFileSync(join(forged, Home.MARKER), "")
    assert.deepStrictEqual([Home.isOurs(marked), Home.isOurs(linked), Home.isOurs(forged)], [true, false, false])
  })
})

describe("Home.requireOurs", () => {
  it("passes a marked, missing or pre-marker home and fails a foreign one", async () => {
    const marked = folder()
    Home.mark(marked)
    assert.strictEqual(await Effect.runPromise(Home.requireOurs(marked)), "ours")
    const earlier = folder()
    writeFileSync(join(earlier, "dynamodb.pid"), "12345\n")
    assert.strictEqual(await Effect.runPromise(Home.requireOurs(earlier)), "unmarked")
    assert.strictEqual(await Effect.runPromise(Home.requireOurs(join(root, "missing"))), "absent")
    const error = await failure(Home.requireOurs(fakeUserHome()))
    assert.include(error.message, "nothing in it is stopped or deleted")
  })
})
