/**
 * PostgreSQL memory settings as the server reads them
 * (https://www.postgresql.org/docs/15/config-setting.html): an integer with an optional unit
 * B, kB, MB, GB or TB, case-sensitive (`128mb` and `1G` are errors at server start). A
 * bare number of shared_buffers counts 8 kB blocks. shared_buffers has a floor of 16 blocks
 * (128kB) (runtime-config-resource.html); the server refuses to start below it.
 */
const UNITS: Readonly<Record<string, number>> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const BLOCK = 8192;
export const MIN_SHARED_BUFFERS_BYTES = 16 * BLOCK;

export function memoryBytes(value: string, bareUnitBytes: number): number | undefined {
    const m = /^\s*(\d+)\s*([A-Za-z]*)\s*$/.exec(value);
    if (!m) return undefined;
    if (m[2] === "") return Number(m[1]) * bareUnitBytes;
    const unit = UNITS[m[2]];
    return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** The unit the user probably meant, for `128mb`, `1G`, `512K`. */
function likelyUnit(unit: string): string | undefined {
    const u = unit.toLowerCase().replace(/b$/, "");
    return { "": "B", k: "kB", m: "MB", g: "GB", t: "TB" }[u];
}

const notAMemorySize = (value: string): string => `"${value}" is not a memory size; write a whole number and a unit, e.g. 128MB or 2GB`;

export function sharedBuffersProblem(value: string): string | undefined {
    const m = /^\s*(\d+)\s*([A-Za-z]*)\s*$/.exec(value);
    if (!m) return notAMemorySize(value);
    if (m[2] !== "" && UNITS[m[2]] === undefined) {
        const guess = likelyUnit(m[2]);
        return `"${value}" has unit "${m[2]}"; PostgreSQL units are B, kB, MB, GB, TB and case-sensitive${guess ? `: write ${m[1]}${guess}` : ""}`;
    }
    const bytes = memoryBytes(value, BLOCK);
    if (bytes === undefined) return notAMemorySize(value);
    if (bytes < MIN_SHARED_BUFFERS_BYTES) return `"${value}" is below PostgreSQL's minimum of 128kB (16 blocks of 8kB); e.g. 128MB`;
    return undefined;
}
