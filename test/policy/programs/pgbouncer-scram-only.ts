// md5 on pgBouncer.
import { CONTAINER_PATHS } from "../../../vocabulary";
import { deploy, editContainer, editUpload } from "./tier";

deploy({
    transformations: [
        editContainer("pgbouncer", (p) =>
            editUpload(p, CONTAINER_PATHS.pgbouncerIni, (t) => t.replace("auth_type = scram-sha-256", "auth_type = md5")),
        ),
    ],
});
