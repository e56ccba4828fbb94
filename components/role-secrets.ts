/**
 * Generated secrets of one cluster: a password and a stable salt per role, and the
 * SCRAM-SHA-256 verifier computed from them. The verifier is what Postgres stores and what
 * pgBouncer's auth file holds; the plaintext only ever appears in DSNs (secrets).
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { scramVerifier } from "../render/scram";
import { WAL_RECEIVER_ROLE } from "../render/wal-receive";
import { APP_SERVICE, APP_USER, MIN_SECRET_LENGTH, typeToken } from "../vocabulary";

export interface RoleSecretsArgs {
    /** Root (superuser) role name. */
    readonly rootUser: string;
    /** Length of each generated password; at least 32. */
    readonly passwordLength: number;
    /** Also generate the streaming WAL receiver's secret (backup.walStreaming). */
    readonly walReceiver?: boolean;
}

export interface RoleSecret {
    readonly user: string;
    /** Plaintext password (secret). */
    readonly password: pulumi.Output<string>;
    /** `SCRAM-SHA-256$4096:...` (secret). */
    readonly verifier: pulumi.Output<string>;
}

export class RoleSecrets extends pulumi.ComponentResource {
    public readonly root: RoleSecret;
    public readonly appUser: RoleSecret;
    public readonly appService: RoleSecret;
    /** The streaming WAL receiver's replication role (`wal_receiver`); only used with backup.walStreaming. */
    public readonly walReceiver?: RoleSecret;
    /** 32-byte libsodium key for WAL-G client-side encryption, hex (secret). Escrow it. */
    public readonly walgLibsodiumKeyHex: pulumi.Output<string>;

    constructor(name: string, args: RoleSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("RoleSecrets"), name, args, opts);
        if (args.passwordLength < MIN_SECRET_LENGTH) {
            throw new Error(`RoleSecrets ${name}: passwordLength must be at least ${MIN_SECRET_LENGTH} (got ${args.passwordLength})`);
        }
        this.root = this.role(name, "root", args.rootUser, args.passwordLength);
        this.appUser = this.role(name, "app-user", APP_USER, args.passwordLength);
        this.appService = this.role(name, "app-service", APP_SERVICE, args.passwordLength);
        if (args.walReceiver) this.walReceiver = this.role(name, "wal-receiver", WAL_RECEIVER_ROLE, args.passwordLength);
        const key = new random.RandomBytes(`${name}-walg-key`, { length: 32 }, { parent: this });
        this.walgLibsodiumKeyHex = pulumi.secret(key.hex);
        // Secret outputs stay secret in the registered outputs (pulumi.secret above).
        this.registerOutputs({
            root: this.root,
            appUser: this.appUser,
            appService: this.appService,
            walReceiver: this.walReceiver,
            walgLibsodiumKeyHex: this.walgLibsodiumKeyHex,
        });
    }

    private role(name: string, suffix: string, user: string, length: number): RoleSecret {
        // Alphanumeric only: the password lands in DSNs and pgpass files; 40+ alnum
        // characters carry well over 200 bits, and nothing needs escaping anywhere.
        const password = new random.RandomPassword(`${name}-${suffix}-password`, { length, special: false }, { parent: this });
        const salt = new random.RandomBytes(`${name}-${suffix}-salt`, { length: 16 }, { parent: this });
        const verifier = pulumi.secret(pulumi.all([password.result, salt.base64]).apply(([p, s]) => scramVerifier(p, s)));
        return { user, password: pulumi.secret(password.result), verifier };
    }
}
