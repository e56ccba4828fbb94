// A port published on Postgres.
import { deploy, editContainer } from "./tier";

deploy({ transformations: [editContainer("postgres", (p) => ({ ...p, ports: [{ internal: 5432, external: 15432, ip: "127.0.0.1" }] }))] });
