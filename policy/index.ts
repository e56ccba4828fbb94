/**
 * The db-tier CrossGuard policy pack: `pulumi preview --policy-pack policy`. Only the
 * constructor lives here (it starts the analyzer server); the policies are in ./policies,
 * one file each, where the offline check and the tests import them.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("db-tier", { policies, enforcementLevel: "mandatory" });
