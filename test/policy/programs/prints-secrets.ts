// For the CLI's own test: a program that prints its (placeholder) secrets and chats on stdout.
import * as pulumi from "@pulumi/pulumi";
import { deploy } from "./tier";

const cfg = new pulumi.Config("db-tier");
console.log(`storage key: ${cfg.get("storageAccessKeyId")}`);
process.stdout.write(`secret key: ${cfg.get("storageSecretAccessKey")}\n`);
console.error(`to stderr: ${cfg.get("storageSecretAccessKey")}`);
deploy();
