// A public bucket: a bucket policy that lets everyone read the backups.
import * as aws from "@pulumi/aws";
import { deploy } from "./tier";

const stack = deploy();
new aws.s3.BucketPolicy(
    "share-backups",
    {
        bucket: stack.bucket.bucket.bucket,
        policy: stack.bucket.bucket.bucket.apply((name) =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    { Sid: "PublicRead", Effect: "Allow", Principal: "*", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${name}/*`] },
                ],
            }),
        ),
    },
    { provider: stack.bucket.awsProvider },
);
