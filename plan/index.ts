/** The tier plan: config → plan → placement (components/ or local/). */
export * from "./bucket";
export * from "./cluster-plan";
export * from "./jobs";
export * from "./pgbouncer";
export * from "./placement";
export * from "./postgres";
export * from "./provision";
export * from "./settings";
export * from "./walg";
export * from "./wal-receiver";
