/** Generated passwords are long enough. */
import { MIN_SECRET_LENGTH } from "../shared/vocabulary";
import { resourcePolicy } from "../lib/kit";
import { asNumber, isUnknown } from "../lib/values";

export const RANDOM_PASSWORD_TYPE = "random:index/randomPassword:RandomPassword";

export const generatedSecretStrength = resourcePolicy(
    {
        name: "generated-secret-strength",
        description: `A random.RandomPassword is at least ${MIN_SECRET_LENGTH} characters long.`,
        remediationSteps: `Set \`length\` to ${MIN_SECRET_LENGTH} or more (db-tier:passwordLength defaults to 40).`,
        severity: "high",
    },
    [RANDOM_PASSWORD_TYPE],
    (r, ctx) => {
        const raw = r.props.length;
        if (isUnknown(raw)) return ctx.defer(`the length of RandomPassword ${r.label}`);
        const length = asNumber(raw);
        if (length === undefined || length < MIN_SECRET_LENGTH) {
            ctx.report(
                `RandomPassword ${r.label} is ${length ?? "of unspecified"} characters long; generated secrets must have at least ${MIN_SECRET_LENGTH}.`,
            );
        }
    },
);
