// A careless engineer adds an age-based rule that expires backup data after 14 days, inside
// the 30-day retention window (the tier itself renders no age-based rule on backup data).
import { deploy, editResource } from "./tier";

deploy({
    transformations: [
        editResource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", (p) => ({
            ...p,
            rules: [...p.rules, { id: "expire-old-backups", status: "Enabled", filter: { prefix: "" }, expiration: { days: 14 } }],
        })),
    ],
});
