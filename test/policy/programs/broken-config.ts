// For the CLI's own test: a configuration error (an RPO above the ceiling) is a usage error, exit 2.
import { deployStack } from "../../../components/stack";
import { readStackConfig } from "../../../config/stack-config";

const { values, secrets } = readStackConfig();
deployStack({ ...values, backup: { rpoSeconds: 3600 } }, secrets);
