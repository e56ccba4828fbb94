// An inline password: Postgres gets POSTGRES_PASSWORD instead of POSTGRES_PASSWORD_FILE.
import { deploy, editContainer } from "./tier";

deploy({
    transformations: [
        editContainer("postgres", (p) => ({
            ...p,
            envs: [
                ...p.envs.filter((e: string) => !e.startsWith("POSTGRES_PASSWORD_FILE=")),
                "POSTGRES_PASSWORD=correct-horse-battery-staple-0123456789",
            ],
        })),
    ],
});
