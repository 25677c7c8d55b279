// Parses the committed AsyncAPI document with the official parser; any error or warning fails `make lint`.
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const path = process.argv[2] ?? "shared/airside/asyncapi.json";
const { diagnostics } = await new Parser().parse(await readFile(path, "utf8"), { source: path });
const failing = diagnostics.filter(
  (d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning,
);
const names = { [DiagnosticSeverity.Error]: "error", [DiagnosticSeverity.Warning]: "warning" };
for (const d of failing) {
  console.error(`${path} ${names[d.severity]} ${d.code} at /${d.path.join("/")}: ${d.message}`);
}
const errors = failing.filter((d) => d.severity === DiagnosticSeverity.Error).length;
console.log(`${path}: ${errors} errors, ${failing.length - errors} warnings (@asyncapi/parser)`);
process.exit(failing.length ? 1 : 0);
