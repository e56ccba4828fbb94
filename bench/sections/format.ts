/** What every section of docs/benchmarks.md shares: number formats, the run line, chart output. */
import type { Meta } from "../lib/results";

/** Writes an SVG chart next to the report and returns the Markdown image that shows it. */
export type Chart = (name: string, svg: string) => string;

export const f = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(d));
export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a && b ? a / b : null);
export const fr = (x: number | null): string => (x === null ? "–" : `${x.toFixed(2)}×`);

/** When, how long, on which commit and under which load a part ran, and the command that ran it. */
export function metaLine(m: Meta): string {
    return (
        `Run ${m.started_at.slice(0, 16).replace("T", " ")} UTC, ${Math.round(m.duration_s / 60)} min, commit ${m.git_commit}${m.quick ? ", **--quick**" : ""}; ` +
        `load average ${m.load_start.loadavg1} at the start, ${m.load_end.loadavg1} at the end (${m.machine.cores} cores, ${m.machine.mem_gib} GiB). Command: \`${m.command.replace(/ --$/, "")}\`.`
    );
}
