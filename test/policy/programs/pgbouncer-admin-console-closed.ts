// An admin user on pgBouncer's console, reachable over the app network.
import { CONTAINER_PATHS } from "../../../vocabulary";
import { deploy, editContainer, editUpload } from "./tier";

deploy({
    transformations: [
        editContainer("pgbouncer", (p) =>
            editUpload(p, CONTAINER_PATHS.pgbouncerIni, (t) => t.replace(/^admin_users =.*$/m, "admin_users = app_user")),
        ),
    ],
});
