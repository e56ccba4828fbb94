/** The one shape of a WAL-G invocation: load the env file, run wal-g under a time bound. */
import { shellQuote } from "./quote";

export interface WalgInvocation {
    readonly walgBinary: string;
    readonly walgEnvFile: string;
}

/**
 * A /bin/sh command line. The env file is sourced inside the command so keys live only in
 * the wal-g process, never in a container's environment; `timeout -k` ends a hung call.
 */
export function walgCommand(w: WalgInvocation, timeoutSeconds: number, args: string): string {
    return `set -a && . ${shellQuote(w.walgEnvFile)} && set +a && timeout -k 10 ${timeoutSeconds} ${shellQuote(w.walgBinary)} ${args}`;
}
