// archive_timeout above the RPO ceiling (the config schema would refuse it, so it is edited in).
import { CONTAINER_PATHS } from "../../../vocabulary";
import { deploy, editContainer, editUpload } from "./tier";

deploy({
    transformations: [
        editContainer("postgres", (p) =>
            editUpload(p, CONTAINER_PATHS.postgresConf, (t) => t.replace(/^archive_timeout = \d+$/m, "archive_timeout = 900")),
        ),
    ],
});
