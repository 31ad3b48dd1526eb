import { defineConfig } from "vitest/config"
import { projects } from "./vitest.workspace.js"

export default defineConfig({
  test: {
    projects,
    // CI checks the JSON report: a run that executed no test fails there instead of passing silently.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".vitest/report.json" }]] : ["default"]
  }
})
