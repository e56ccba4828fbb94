// The restore drill runs once a year.
import { SCHEDULE_ENV } from "../../../vocabulary";
import { deploy, editContainer } from "./tier";

deploy({
    transformations: [
        editContainer("restore-drill", (p) => ({
            ...p,
            envs: p.envs.map((e: string) => (e.startsWith(`${SCHEDULE_ENV.drill}=`) ? `${SCHEDULE_ENV.drill}=0 4 1 1 *` : e)),
        })),
    ],
});
