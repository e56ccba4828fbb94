#!/usr/bin/env node
// Compares a generated Pulumi schema (tfgen's schema.json) with the npm SDK the program runs
// (node_modules/@pulumi/<pkg>): every resource and the provider, their input and output property
// names and which inputs are required, and every nested object type they reach (types/input.d.ts,
// types/output.d.ts). Prints one line per mismatch and exits 1 if there is any.
//
//   node tools/providers/check-schema.cjs SCHEMA.json node_modules/@pulumi/docker [--list TOKEN...]
//
// --list prints the checked property names of the given tokens (for the README and the report).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [schemaFile, sdkDir, ...rest] = process.argv.slice(2);
if (!schemaFile || !sdkDir) {
    console.error("usage: check-schema.cjs SCHEMA.json SDK_DIR [--list TOKEN...]");
    process.exit(2);
}
const listTokens = rest[0] === "--list" ? rest.slice(1) : [];
const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"));

/** "array", "map" or "one" (a scalar or a single object) of a .d.ts property type. */
function sdkShape(text) {
    const t = text.replace(/^(?:pulumi\.(?:Input|Output)<)+/, "").trim();
    if (/^\{\s*(\[key: string\])?/.test(t) && (t.startsWith("{[key") || t === "{" || t.startsWith("{\n"))) return "map";
    if (/\[\](?:\s*\|\s*undefined)?>*;?$/.test(t)) return "array";
    return "one";
}

function schemaShape(spec) {
    if (spec.type === "array") return "array";
    if (spec.type === "object" && spec.additionalProperties) return "map";
    return "one";
}

/** name -> { props: Map(name -> {optional, shape}) } of `export interface` / `export declare class` blocks. */
function declarations(file) {
    const out = new Map();
    if (!fs.existsSync(file)) return out;
    const text = fs.readFileSync(file, "utf8");
    const re = /^export (?:interface|declare class) (\w+)[^{\n]*\{\n([\s\S]*?)^\}/gm;
    for (let m = re.exec(text); m; m = re.exec(text)) {
        const props = new Map();
        for (const line of m[2].split("\n")) {
            const p = /^ {4}(?:readonly )?(\w+)(\?)?: (.*)$/.exec(line);
            if (p) props.set(p[1], { optional: Boolean(p[2]), shape: sdkShape(p[3]) });
        }
        out.set(m[1], props);
    }
    return out;
}

const inputTypes = declarations(path.join(sdkDir, "types", "input.d.ts"));
const outputTypes = declarations(path.join(sdkDir, "types", "output.d.ts"));
const problems = [];
const checked = new Map(); // token -> lines
const seenTypes = new Set();

function note(token, line) {
    if (!checked.has(token)) checked.set(token, []);
    checked.get(token).push(line);
}

function refOf(spec) {
    if (!spec) return undefined;
    if (spec.$ref) return spec.$ref;
    return refOf(spec.items) ?? refOf(spec.additionalProperties);
}

/** Compares schema properties (object of PropertySpec) with a declaration's property map. */
function compare(where, token, schemaProps, required, decl, kind) {
    if (!decl) {
        problems.push(`${where}: the SDK declares no ${kind}`);
        return;
    }
    const names = Object.keys(schemaProps ?? {});
    for (const n of names) {
        if (!decl.has(n)) problems.push(`${where}: schema property ${n} is not in the SDK's ${kind}`);
    }
    for (const [n, { optional, shape }] of decl) {
        if (!(n in (schemaProps ?? {}))) {
            problems.push(`${where}: SDK property ${n} is not in the schema`);
            continue;
        }
        if (required && optional === required.includes(n))
            problems.push(`${where}: ${n} is ${optional ? "optional" : "required"} in the SDK but not in the schema`);
        const want = schemaShape(schemaProps[n]);
        if (shape !== want) problems.push(`${where}: ${n} is ${shape} in the SDK but ${want} in the schema (MaxItemsOne?)`);
    }
    note(token, `${kind}: ${names.sort().join(", ")}`);
    for (const n of names) {
        const ref = refOf(schemaProps[n]);
        if (ref?.startsWith("#/types/")) visitType(ref.slice("#/types/".length), required ? "input" : "output");
    }
}

function visitType(typeToken, side) {
    const key = `${side} ${typeToken}`;
    if (seenTypes.has(key)) return;
    seenTypes.add(key);
    const spec = schema.types?.[typeToken];
    if (!spec) return problems.push(`type ${typeToken}: referenced but not in the schema`);
    if (spec.enum) return;
    const name = typeToken
        .split(":")
        .at(-1)
        .replace(/^./, (c) => c.toUpperCase()); // getNetworkIpamConfig -> GetNetworkIpamConfig
    const decl = (side === "input" ? inputTypes : outputTypes).get(name);
    const required = side === "input" ? (spec.required ?? []) : undefined;
    compare(`type ${typeToken} (${side})`, typeToken, spec.properties, required, decl, `${side}s.${name}`);
}

function moduleFile(token) {
    // "docker:index/container:Container" -> "container.d.ts"
    const mod = token.split(":")[1];
    return path.join(sdkDir, `${mod.split("/").at(-1)}.d.ts`);
}

for (const [token, res] of Object.entries(schema.resources ?? {})) {
    const file = moduleFile(token);
    if (!fs.existsSync(file)) {
        problems.push(`resource ${token}: the SDK has no ${path.basename(file)}`);
        continue;
    }
    const decls = declarations(file);
    const name = token.split(":").at(-1);
    compare(`resource ${token} inputs`, token, res.inputProperties, res.requiredInputs ?? [], decls.get(`${name}Args`), `${name}Args`);
    const cls = new Map(decls.get(name) ?? []);
    compare(`resource ${token} outputs`, token, res.properties, undefined, cls.size ? cls : undefined, `class ${name}`);
}
{
    const decls = declarations(path.join(sdkDir, "provider.d.ts"));
    const p = schema.provider ?? {};
    compare(
        "provider inputs",
        `pulumi:providers:${schema.name}`,
        p.inputProperties,
        p.requiredInputs ?? [],
        decls.get("ProviderArgs"),
        "ProviderArgs",
    );
}
for (const [token, fn] of Object.entries(schema.functions ?? {})) {
    if (token.startsWith("pulumi:providers:")) continue; // the provider's own methods (terraformConfig)
    const file = moduleFile(token);
    if (!fs.existsSync(file)) {
        problems.push(`function ${token}: the SDK has no ${path.basename(file)}`);
        continue;
    }
    const decls = declarations(file);
    const name = token
        .split(":")
        .at(-1)
        .replace(/^./, (c) => c.toUpperCase());
    if (fn.inputs)
        compare(`function ${token} args`, token, fn.inputs.properties, fn.inputs.required ?? [], decls.get(`${name}Args`), `${name}Args`);
    compare(`function ${token} result`, token, fn.outputs?.properties, undefined, decls.get(`${name}Result`), `${name}Result`);
}
// Every resource and function the SDK registers must have a token in the schema (docker.Image
// aside: it is native to pulumi-docker, not in the Terraform provider).
const NATIVE = new Set(["docker:index/image:Image"]);
for (const file of fs.readdirSync(sdkDir).filter((f) => f.endsWith(".js"))) {
    const text = fs.readFileSync(path.join(sdkDir, file), "utf8");
    for (const m of text.matchAll(/case "([a-z0-9]+:[a-zA-Z0-9]+\/[a-zA-Z0-9]+:[A-Za-z0-9]+)":/g))
        if (!(m[1] in (schema.resources ?? {})) && !NATIVE.has(m[1]))
            problems.push(`SDK resource ${m[1]} (${file}) has no token in the schema`);
    for (const m of text.matchAll(/invoke(?:Output|SingleOutput|Single)?\("([a-z0-9]+:[a-zA-Z0-9]+\/[a-zA-Z0-9]+:[A-Za-z0-9]+)"/g))
        if (!(m[1] in (schema.functions ?? {}))) problems.push(`SDK function ${m[1]} (${file}) has no token in the schema`);
}

for (const t of listTokens) for (const line of checked.get(t) ?? [`(not checked: ${t})`]) console.log(`${t}  ${line}`);
const counts = `${Object.keys(schema.resources ?? {}).length} resources, ${seenTypes.size} nested types`;
if (problems.length) {
    for (const p of problems) console.log(`MISMATCH ${p}`);
    console.log(`check-schema: ${problems.length} mismatch(es) in ${counts}`);
    process.exit(1);
}
console.log(`check-schema: ${schema.name} schema matches the SDK in ${sdkDir} (${counts} checked)`);
