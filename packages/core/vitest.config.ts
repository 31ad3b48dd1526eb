import { defineProject } from "vitest/config"
import { sourceResolution } from "../../vitest.workspace.js"

export default defineProject({
  ...sourceResolution,
  test: { name: "core", include: ["test/**/*.test.ts"] }
})
