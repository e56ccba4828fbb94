/**
 * Registers the catalogue's cases of one class as tests: each bad input must fail with a
 * ConfigError whose problem lines are exactly the expected ones, each good input must pass.
 */
import { expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { BAD_INPUTS, type CaseClass, GOOD_INPUTS } from "./bad-inputs";

export function errorOf(run: () => unknown): unknown {
    try {
        run();
    } catch (e) {
        return e;
    }
    return undefined;
}

export function expectProblems(run: () => unknown, problems: readonly string[]): void {
    const error = errorOf(run);
    expect(error, "accepted, but must be refused").toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(problems);
}

export function catalogueTests(cls: CaseClass, minimum = 3): void {
    const bad = BAD_INPUTS.filter((c) => c.class === cls);
    const good = GOOD_INPUTS.filter((c) => c.class === cls);
    it(`the catalogue holds at least ${minimum} ${cls} cases`, () => {
        expect(bad.length).toBeGreaterThanOrEqual(minimum);
    });
    for (const c of bad) it(`refuses: ${c.title}`, () => expectProblems(c.run, c.problems));
    for (const c of good) it(`accepts: ${c.title}`, () => expect(errorOf(c.run)).toBeUndefined());
}
