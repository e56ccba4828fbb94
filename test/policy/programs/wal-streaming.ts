// The real tier with streaming WAL archiving on (backup.walStreaming: a wal-receive container,
// a replication role, a pg_hba replication line): still no mandatory violation.
import { deployStack } from "../../../components/stack";
import { readStackConfig } from "../../../config/stack-config";

const { values, secrets } = readStackConfig();
const v = values as Record<string, any>;
deployStack({ ...v, backup: { ...(v.backup ?? {}), walStreaming: true } } as typeof values, secrets);
