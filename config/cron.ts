/**
 * A small five-field cron (minute hour day-of-month month day-of-week, UTC) used for the
 * backup and restore-drill schedules. Pure: the scheduler, the config validation and the
 * `restore-drill-scheduled` policy all use this one parser, so "at least monthly" means the
 * same thing everywhere. It lives in config/ because a schedule is a config value: config/
 * validates with it, and the layers below (jobs/, the policy pack's copy) read the same rules.
 */

export interface CronSchedule {
    readonly source: string;
    readonly minutes: ReadonlySet<number>;
    readonly hours: ReadonlySet<number>;
    readonly daysOfMonth: ReadonlySet<number>;
    readonly months: ReadonlySet<number>;
    readonly daysOfWeek: ReadonlySet<number>;
    /** Cron's rule: when both day fields are restricted, a day matching either runs. */
    readonly domRestricted: boolean;
    readonly dowRestricted: boolean;
}

const FIELDS = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31 },
    { name: "month", min: 1, max: 12 },
    { name: "day of week", min: 0, max: 7 },
] as const;

export class CronError extends Error {}

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> {
    const values = new Set<number>();
    for (const part of text.split(",")) {
        const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
        if (!m) throw new CronError(`${field.name} "${part}" is not a number, range, list or step`);
        let lo: number = field.min;
        let hi: number = field.max;
        if (m[1] !== "*") {
            lo = Number(m[2]);
            hi = m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? field.max : lo;
        }
        const step = m[4] !== undefined ? Number(m[4]) : 1;
        if (lo < field.min || hi > field.max || lo > hi) {
            throw new CronError(`${field.name} "${part}" is outside ${field.min}-${field.max}`);
        }
        if (step < 1) throw new CronError(`${field.name} step in "${part}" must be at least 1`);
        for (let v = lo; v <= hi; v += step) values.add(field.name === "day of week" && v === 7 ? 0 : v);
    }
    return values;
}

/** Parses a five-field cron expression; throws CronError naming the bad field. */
export function parseCron(source: string): CronSchedule {
    const parts = source.trim().split(/\s+/);
    if (parts.length !== 5) {
        throw new CronError(`"${source}" must have 5 fields (minute hour day-of-month month day-of-week)`);
    }
    const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((p, i) => parseField(p, FIELDS[i]));
    const schedule: CronSchedule = {
        source,
        minutes,
        hours,
        daysOfMonth,
        months,
        daysOfWeek,
        domRestricted: parts[2] !== "*",
        dowRestricted: parts[4] !== "*",
    };
    if (nextRun(schedule, new Date(Date.UTC(2000, 0, 1))) === undefined) {
        throw new CronError(`"${source}" never runs (no such date)`);
    }
    return schedule;
}

function dayMatches(s: CronSchedule, d: Date): boolean {
    if (!s.months.has(d.getUTCMonth() + 1)) return false;
    const dom = s.daysOfMonth.has(d.getUTCDate());
    const dow = s.daysOfWeek.has(d.getUTCDay());
    if (s.domRestricted && s.dowRestricted) return dom || dow;
    return dom && dow;
}

/** The first run strictly after `after`, or undefined when none within 8 years (e.g. Feb 30). */
export function nextRun(s: CronSchedule, after: Date): Date | undefined {
    const start = new Date(after.getTime() + 60_000 - (after.getTime() % 60_000));
    const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
    for (let i = 0; i < 366 * 8; i++, day.setUTCDate(day.getUTCDate() + 1)) {
        if (!dayMatches(s, day)) continue;
        for (const h of [...s.hours].sort((a, b) => a - b)) {
            for (const m of [...s.minutes].sort((a, b) => a - b)) {
                const t = new Date(day.getTime() + h * 3_600_000 + m * 60_000);
                if (t >= start) return t;
            }
        }
    }
    return undefined;
}

/**
 * The longest gap, in days, between the last run of one run day and the first run of the
 * next, over eight years from `from` (so leap days and 31-day months are covered; fewer than two
 * run days is an infinite gap). Gaps
 * inside a day are below one day and do not matter to "at least daily/monthly" questions.
 */
export function longestGapDays(s: CronSchedule, from = new Date(Date.UTC(2024, 0, 1))): number {
    const firstMinute = Math.min(...s.minutes);
    const lastMinute = Math.max(...s.minutes);
    const firstHour = Math.min(...s.hours);
    const lastHour = Math.max(...s.hours);
    const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
    let previousLast: number | undefined;
    let longest = 0;
    let runDays = 0;
    // Eight years, so a leap-day-only schedule (the rarest cron can say) is seen twice.
    for (let i = 0; i < 8 * 366; i++, day.setUTCDate(day.getUTCDate() + 1)) {
        if (!dayMatches(s, day)) continue;
        runDays++;
        const first = day.getTime() + firstHour * 3_600_000 + firstMinute * 60_000;
        if (previousLast !== undefined) longest = Math.max(longest, (first - previousLast) / 86_400_000);
        previousLast = day.getTime() + lastHour * 3_600_000 + lastMinute * 60_000;
    }
    return runDays < 2 ? Number.POSITIVE_INFINITY : longest;
}
