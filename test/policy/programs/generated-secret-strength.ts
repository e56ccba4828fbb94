// A generated password shorter than 32 characters.
import * as random from "@pulumi/random";
import { deploy } from "./tier";

deploy();
new random.RandomPassword("metrics-password", { length: 16, special: false });
