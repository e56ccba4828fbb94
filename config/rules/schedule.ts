/**
 * Cadence limits of the two schedules, on top of "at least daily/monthly" (config/schema.ts):
 * a base backup reads the whole data directory and a drill restores it, so one that starts
 * before the previous can finish only piles up work. Uses the tier's one cron parser.
 */
import type { CronSchedule } from "../cron";

/** Shortest time between two runs, in minutes, over one day's run times (and midnight). */
export function shortestGapMinutes(s: CronSchedule): number {
    const times = [...s.hours].flatMap((h) => [...s.minutes].map((m) => h * 60 + m)).sort((a, b) => a - b);
    let shortest = Number.POSITIVE_INFINITY;
    for (let i = 1; i < times.length; i++) shortest = Math.min(shortest, times[i] - times[i - 1]);
    // Consecutive run days (every day, or two adjacent days of month/week) join last and first.
    const everyDay = !s.domRestricted && !s.dowRestricted;
    const adjacentDays =
        (s.dowRestricted && [...s.daysOfWeek].some((d) => s.daysOfWeek.has((d + 1) % 7))) ||
        (s.domRestricted && [...s.daysOfMonth].some((d) => s.daysOfMonth.has(d + 1)));
    if (everyDay || adjacentDays) shortest = Math.min(shortest, times[0] + 1440 - times[times.length - 1]);
    return shortest;
}

/** Base backups at most hourly. */
export const MIN_BACKUP_GAP_MINUTES = 60;
