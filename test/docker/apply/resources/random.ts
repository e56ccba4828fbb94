/**
 * random.RandomPassword / RandomBytes generated for real from the OS CSPRNG, as the random
 * provider does; every input change (length, keepers, ...) replaces, like the provider.
 */
import { randomBytes, randomInt } from "node:crypto";
import { map } from "../strict";
import type { ResourceImpl } from "../types";
import { NotImplementedError } from "../strict";

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const NUMERIC = "0123456789";
const SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

export const randomPassword: ResourceImpl = {
    inputs: {
        length: "number",
        special: "boolean",
        upper: "boolean",
        lower: "boolean",
        numeric: "boolean",
        overrideSpecial: "string",
        keepers: map("string"),
    },
    async create(inputs) {
        const length = inputs.length as number;
        if (!Number.isInteger(length) || length < 1)
            throw new NotImplementedError(`RandomPassword: length must be a positive integer (got ${length})`);
        const special = inputs.special !== false ? ((inputs.overrideSpecial as string | undefined) ?? SPECIAL) : "";
        const sets = [
            inputs.upper !== false ? UPPER : "",
            inputs.lower !== false ? LOWER : "",
            inputs.numeric !== false ? NUMERIC : "",
            special,
        ].filter((s) => s);
        const alphabet = sets.join("");
        if (!alphabet) throw new NotImplementedError("RandomPassword: every character class is off");
        // The provider guarantees one character of each enabled class (min_* defaults to 0, but
        // keep it simple and unbiased): uniform draws over the whole alphabet.
        let result = "";
        for (let i = 0; i < length; i++) result += alphabet[randomInt(alphabet.length)];
        return { id: "none", outputs: { result } };
    },
    async delete() {},
};

export const randomBytesImpl: ResourceImpl = {
    inputs: { length: "number", keepers: map("string") },
    async create(inputs) {
        const length = inputs.length as number;
        if (!Number.isInteger(length) || length < 1)
            throw new NotImplementedError(`RandomBytes: length must be a positive integer (got ${length})`);
        const b = randomBytes(length);
        return { id: "none", outputs: { base64: b.toString("base64"), hex: b.toString("hex") } };
    },
    async delete() {},
};
