// For the recorder's own test: two component trees whose leaves have the same name and the
// same parent type (`Inner`), which the mock runtime's URNs (last parent type only) cannot
// tell apart; the engine's (full type chain) can.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

class Inner extends pulumi.ComponentResource {
    readonly bucket: aws.s3.Bucket;
    constructor(name: string, bucketName: string, endpoint: string, opts: pulumi.ComponentResourceOptions) {
        super("test:index:Inner", name, {}, opts);
        const provider = new aws.Provider("provider", { region: "us-east-1", endpoints: [{ s3: endpoint }] }, { parent: this });
        this.bucket = new aws.s3.Bucket("b", { bucket: bucketName }, { parent: this, provider });
        this.registerOutputs({});
    }
}

class Outer extends pulumi.ComponentResource {
    readonly inner: Inner;
    constructor(type: string, name: string, endpoint: string) {
        super(type, name, {}, {});
        this.inner = new Inner("inner", `bucket-of-${name}`, endpoint, { parent: this });
        this.registerOutputs({});
    }
}

const one = new Outer("test:index:OuterOne", "one", "https://acct.r2.cloudflarestorage.com");
const two = new Outer("test:index:OuterTwo", "two", "https://s3.us-west-004.backblazeb2.com");
new aws.s3.BucketPolicy("p", { bucket: one.inner.bucket.bucket, policy: "{}" }, { dependsOn: [two.inner.bucket] });
export const names = [one.inner.bucket.bucket, two.inner.bucket.bucket];
