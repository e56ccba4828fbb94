/** Helpers the Docker resource implementations share. */
import type { Engine } from "../engine";
import { NotImplementedError } from "../strict";
import type { ApplyContext } from "../types";

export function engineOf(ctx: ApplyContext): Engine {
    if (ctx.provider?.kind !== "docker") throw new NotImplementedError(`${ctx.type}: no Docker provider resolved for ${ctx.urn}`);
    return ctx.provider.engine;
}

/** `[{label, value}]` (the provider's shape) → the engine's label map. */
export function labelMap(labels: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const l of (labels as { label: string; value: string }[] | undefined) ?? []) out[l.label] = l.value;
    return out;
}

/** Go duration (`10s`, `1m30s`, `500ms`) → nanoseconds, as the provider parses it. */
export function durationNs(d: string | undefined, what: string): number | undefined {
    if (d === undefined) return undefined;
    const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
    const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
    let total = 0;
    let consumed = 0;
    for (let m = re.exec(d); m; m = re.exec(d)) {
        total += Number(m[1]) * unit[m[2]];
        consumed += m[0].length;
    }
    if (consumed !== d.length || d.length === 0) throw new NotImplementedError(`${what}: "${d}" is not a Go duration`);
    return Math.round(total);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
