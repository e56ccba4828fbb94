/** Minimal SVG charts (bars and lines) for docs/benchmarks.md: no library, no scripts, no fonts to load. */

const W = 720;
const H = 360;
const M = { top: 40, right: 170, bottom: 56, left: 64 };
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n = (x: number): string => (Math.round(x * 10) / 10).toString();

function niceMax(v: number): number {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
    return 10 * p;
}

function frame(title: string, yLabel: string, body: string[], legend: { label: string; color: string; dash?: boolean }[]): string {
    const lx = W - M.right + 12;
    const items = legend.map(
        (l, i) =>
            `<line x1="${lx}" y1="${M.top + 8 + i * 18}" x2="${lx + 18}" y2="${M.top + 8 + i * 18}" stroke="${l.color}" stroke-width="${l.dash ? 2 : 8}"${l.dash ? ' stroke-dasharray="5,3"' : ""}/>` +
            `<text x="${lx + 24}" y="${M.top + 12 + i * 18}" font-size="11">${esc(l.label)}</text>`,
    );
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif">`,
        `<title>${esc(title)}</title>`,
        `<rect width="${W}" height="${H}" fill="white"/>`,
        `<text x="${W / 2 - M.right / 2}" y="22" font-size="14" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
        `<text transform="translate(16 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" font-size="11" text-anchor="middle">${esc(yLabel)}</text>`,
        ...body,
        ...items,
        "</svg>",
        "",
    ].join("\n");
}

function yAxis(max: number, ticks = 5): { y: (v: number) => string; lines: string[] } {
    const plotH = H - M.top - M.bottom;
    const y = (v: number): string => n(M.top + plotH - (v / max) * plotH);
    const lines: string[] = [];
    for (let i = 0; i <= ticks; i++) {
        const v = (max / ticks) * i;
        lines.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
        lines.push(
            `<text x="${M.left - 6}" y="${Number(y(v)) + 4}" font-size="10" text-anchor="end">${Number.isInteger(v) ? v : v.toFixed(1)}</text>`,
        );
    }
    lines.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
    lines.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
    return { y, lines };
}

export interface BarGroup {
    readonly label: string;
    readonly values: (number | null)[];
}

/** Grouped bars; series names in `series`; an optional horizontal reference line. */
export function barChart(o: {
    title: string;
    yLabel: string;
    series: string[];
    groups: BarGroup[];
    refLine?: { value: number; label: string };
    valueLabels?: boolean;
}): string {
    const all = o.groups.flatMap((g) => g.values.filter((v): v is number => v !== null));
    const max = niceMax(Math.max(...all, o.refLine?.value ?? 0) * 1.05);
    const { y, lines } = yAxis(max);
    const plotW = W - M.left - M.right;
    const gw = plotW / Math.max(1, o.groups.length);
    const bw = Math.min(40, (gw * 0.8) / Math.max(1, o.series.length));
    const body = [...lines];
    o.groups.forEach((g, gi) => {
        const x0 = M.left + gi * gw + (gw - bw * o.series.length) / 2;
        g.values.forEach((v, si) => {
            if (v === null) return;
            const top = Number(y(v));
            body.push(
                `<rect x="${n(x0 + si * bw)}" y="${n(top)}" width="${n(bw - 2)}" height="${n(H - M.bottom - top)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${g.label} ${o.series[si]}: ${v}`)}</title></rect>`,
            );
            if (o.valueLabels)
                body.push(
                    `<text x="${n(x0 + si * bw + (bw - 2) / 2)}" y="${n(top - 3)}" font-size="9" text-anchor="middle">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`,
                );
        });
        body.push(
            `<text x="${n(M.left + gi * gw + gw / 2)}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle">${esc(g.label)}</text>`,
        );
    });
    const legend = o.series.map((s, i) => ({ label: s, color: COLORS[i % COLORS.length] }));
    if (o.refLine) {
        body.push(
            `<line x1="${M.left}" x2="${W - M.right}" y1="${y(o.refLine.value)}" y2="${y(o.refLine.value)}" stroke="#c00" stroke-width="2" stroke-dasharray="5,3"/>`,
        );
        legend.push({ label: o.refLine.label, color: "#c00", dash: true } as never);
    }
    return frame(o.title, o.yLabel, body, legend);
}

export interface LineSeries {
    readonly label: string;
    readonly points: { x: number; y: number }[];
    readonly dash?: boolean;
}

/** Lines over a categorical (evenly spaced) x axis given by xs. */
export function lineChart(o: { title: string; yLabel: string; xLabel: string; xs: number[]; series: LineSeries[] }): string {
    const max = niceMax(Math.max(...o.series.flatMap((s) => s.points.map((p) => p.y)), 1) * 1.05);
    const { y, lines } = yAxis(max);
    const plotW = W - M.left - M.right;
    const x = (v: number): number => M.left + ((o.xs.indexOf(v) + 0.5) / o.xs.length) * plotW;
    const body = [...lines];
    for (const v of o.xs) body.push(`<text x="${n(x(v))}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle">${v}</text>`);
    body.push(`<text x="${n(M.left + plotW / 2)}" y="${H - 14}" font-size="11" text-anchor="middle">${esc(o.xLabel)}</text>`);
    o.series.forEach((s, i) => {
        const c = COLORS[i % COLORS.length];
        const pts = s.points.filter((p) => o.xs.includes(p.x));
        body.push(
            `<polyline fill="none" stroke="${c}" stroke-width="2"${s.dash ? ' stroke-dasharray="6,4"' : ""} points="${pts.map((p) => `${n(x(p.x))},${y(p.y)}`).join(" ")}"/>`,
        );
        for (const p of pts)
            body.push(
                `<circle cx="${n(x(p.x))}" cy="${y(p.y)}" r="3.5" fill="${c}"><title>${esc(`${s.label}, ${p.x}: ${p.y}`)}</title></circle>`,
            );
    });
    return frame(
        o.title,
        o.yLabel,
        body,
        o.series.map((s, i) => ({ label: s.label, color: COLORS[i % COLORS.length], dash: s.dash })),
    );
}
