// The real tier, unchanged: no mandatory violation.
import { deploy } from "./tier";

deploy();
