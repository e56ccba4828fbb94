// A safety-net rule that expires backups after 14 days, inside the retention window.
import { deploy, editResource } from "./tier";

deploy({
    transformations: [
        editResource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", (p) => ({
            ...p,
            rules: p.rules.map((r: { id: string; expiration?: { days: number } }) => (r.id.startsWith("backup-safety-net") ? { ...r, expiration: { days: 14 } } : r)),
        })),
    ],
});
