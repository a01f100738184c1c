// Bundles every widget front end with esbuild, or builds and runs the unit tests.
//
//   node build.mjs           src/<name>/index.ts -> ../annolab/static/<name>.js (+ <name>.css),
//                            and src/vega/bundle.ts -> ../annolab/static/vega.js
//   node build.mjs --test    src/**/*.test.ts -> node_modules/.cache/annolab-tests/, then node --test
//
// A widget is any folder of src/ with an index.ts; src/common/ holds shared code and is not one.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const staticDir = join(here, "..", "annolab", "static");
// Under node_modules so the compiled tests are ignored by git and removed with the deps.
const testDir = join(here, "node_modules", ".cache", "annolab-tests");

function widgetEntries() {
  return readdirSync(src, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(src, d.name, "index.ts")))
    .map((d) => ({ in: join(src, d.name, "index.ts"), out: d.name }));
}

function testEntries(dir = src) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return testEntries(path);
    return d.name.endsWith(".test.ts") ? [path] : [];
  });
}

async function buildWidgets() {
  const entryPoints = widgetEntries();
  if (entryPoints.length === 0) throw new Error(`no widget found: expected ${src}/<name>/index.ts`);
  // anywidget loads one ES module per widget, so each bundle carries its own copy of common/.
  const result = await esbuild.build({
    entryPoints,
    outdir: staticDir,
    bundle: true,
    format: "esm",
    target: "es2020",
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  for (const file of Object.keys(result.metafile.outputs).sort()) {
    console.log(`built ${file}`);
  }
}

// The versions go into a first-line comment that annolab/dashboards/_render.py reads: it checks
// the Vega-Lite major against the one Altair emits, and keys the page-wide copy of the bundle.
const VEGA_PACKAGES = ["vega", "vega-lite", "vega-embed"];

function installedVersion(name) {
  const manifest = join(here, "node_modules", name, "package.json");
  return JSON.parse(readFileSync(manifest, "utf8")).version;
}

async function buildVega() {
  const versions = VEGA_PACKAGES.map((name) => `${name}@${installedVersion(name)}`).join(" ");
  const result = await esbuild.build({
    entryPoints: [join(src, "vega", "bundle.ts")],
    outfile: join(staticDir, "vega.js"),
    bundle: true,
    format: "esm",
    target: "es2020",
    minify: true,
    legalComments: "none",
    banner: { js: `/*! annolab-vega ${versions} */` },
    metafile: true,
    logLevel: "warning",
  });
  for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
    console.log(`built ${file} (${versions}, ${(bytes / 1024).toFixed(0)} KiB)`);
  }
}

async function buildAndRunTests() {
  const entryPoints = testEntries();
  rmSync(testDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints,
    outdir: testDir,
    outbase: src,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    logLevel: "warning",
  });
  const compiled = entryPoints.map((p) => join(testDir, relative(src, p)).replace(/\.ts$/, ".mjs"));
  const run = spawnSync(process.execPath, ["--test", ...compiled], { stdio: "inherit" });
  process.exitCode = run.status ?? 1;
}

if (process.argv.includes("--test")) await buildAndRunTests();
else await Promise.all([buildWidgets(), buildVega()]);
