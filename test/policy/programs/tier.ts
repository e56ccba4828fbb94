/**
 * Shared by the violation programs: the real tier from the library, deployed with the
 * stack's config exactly as index.ts does, plus helpers to break it in one place.
 * Each program is run by `npm run policy:check -- --stack dev --program <file>`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { deployStack, type DeployedStack } from "../../../components/stack";
import { readStackConfig } from "../../../config/stack-config";
import { ROLE_LABEL } from "../../../vocabulary";

export function deploy(opts?: pulumi.ComponentResourceOptions): DeployedStack {
    const { values, secrets } = readStackConfig();
    return deployStack(values, secrets, opts);
}

type Props = Record<string, any>;

function roleOf(props: Props): string | undefined {
    const labels = Array.isArray(props.labels) ? props.labels : [];
    return labels.find((l: Props) => l && l.label === ROLE_LABEL)?.value;
}

/**
 * A (classic, in-process) resource transformation that edits the args of the containers
 * with the given role before they are registered, as an engineer's own edit would.
 */
export function editContainer(role: string, edit: (props: Props) => Props): pulumi.ResourceTransformation {
    return (args) => {
        if (args.type !== "docker:index/container:Container" || roleOf(args.props) !== role) return undefined;
        return { props: edit({ ...args.props }), opts: args.opts };
    };
}

export function editResource(type: string, edit: (props: Props) => Props): pulumi.ResourceTransformation {
    return (args) => (args.type === type ? { props: edit({ ...args.props }), opts: args.opts } : undefined);
}

/** Replaces the text of one uploaded file (its content must be a plain string). */
export function editUpload(props: Props, file: string, edit: (text: string) => string): Props {
    return {
        ...props,
        uploads: (props.uploads as Props[]).map((u) => {
            if (u.file !== file) return u;
            if (typeof u.content !== "string") throw new Error(`upload ${file} is not plain text`);
            return { ...u, content: edit(u.content) };
        }),
    };
}
