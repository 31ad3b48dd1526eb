import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as AtomicFile from "../src/local/AtomicFile.js"

const root = mkdtempSync(join(tmpdir(), "atomic-file-test-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const folder = () => mkdtempSync(join(root, "case-"))

describe("AtomicFile.write", () => {
  it("replaces the file's content and leaves no temporary file behind", () => {
    const dir = folder()
    const file = join(dir, "nested", "status.json")
    AtomicFile.write(file, "one\n")
    AtomicFile.write(file, "two\n")
    assert.strictEqual(readFileSync(file, "utf8"), "two\n")
    assert.deepStrictEqual(readdirSync(join(dir, "nested")), ["status.json"])
  })

  it("does not follow a symlink planted at the temporary name a process id made predictable", () => {
    const dir = folder()
    const victim = join(dir, "victim.txt")
    writeFileSync(victim, "precious\n")
    const file = join(dir, "checkpoints.json")
    symlinkSync(victim, `${file}.${process.pid}.tmp`)
    AtomicFile.write(file, "{}\n")
    assert.strictEqual(readFileSync(victim, "utf8"), "precious\n")
    assert.isFalse(lstatSync(file).isSymbolicLink())
    assert.strictEqual(readFileSync(file, "utf8"), "{}\n")
  })

  it("creates its temporary file exclusively: anything already at that name fails the write and is left alone", () => {
    const dir = folder()
    const victim = join(dir, "victim.txt")
    writeFileSync(victim, "precious\n")
    const file = join(dir, "out.csv")
    const planted = join(dir, "planted.tmp")
    symlinkSync(victim, planted)
    assert.throws(() => AtomicFile.writeVia(planted, file, "CustID\r\n"), /EEXIST/)
    assert.strictEqual(readFileSync(victim, "utf8"), "precious\n")
    assert.isTrue(lstatSync(planted).isSymbolicLink())
    assert.deepStrictEqual(readdirSync(dir).sort(), ["planted.tmp", "victim.txt"])
  })

  it("names its temporary file beside the target, hidden and unguessable", () => {
    const file = join(folder(), "out.csv")
    const [a, b] = [AtomicFile.temporaryName(file), AtomicFile.temporaryName(file)]
    assert.notStrictEqual(a, b)
    assert.match(a, /\/\.out\.csv\.[0-9a-f]{24}\.tmp$/)
  })

  it("gives the file the mode asked for, also when it replaces a file anyone could read", () => {
    const dir = folder()
    const file = join(dir, "invite.csv")
    writeFileSync(file, "old\n", { mode: 0o644 })
    AtomicFile.write(file, "CustID\r\n", { mode: 0o600 })
    assert.strictEqual(statSync(file).mode & 0o777, 0o600)
    assert.strictEqual(readFileSync(file, "utf8"), "CustID\r\n")
  })
})
