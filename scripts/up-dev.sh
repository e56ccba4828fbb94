#!/usr/bin/env bash
# The main job: `pulumi up` of the local dev stack. Needs the Pulumi CLI and a Docker engine;
# MinIO runs as the embedded object store, so no cloud account is needed. State goes to the
# local file backend unless you are already logged in somewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pulumi >/dev/null 2>&1 || { echo "up:dev: the Pulumi CLI is not installed (https://www.pulumi.com/docs/iac/download-install/)" >&2; exit 2; }
docker info >/dev/null 2>&1 || { echo "up:dev: no Docker engine is reachable (docker info failed)" >&2; exit 2; }
[ -d node_modules ] || npm ci --no-audit --no-fund
# The Postgres image ships the compiled job runner (bin/jobs), built from this checkout.
npm run build
# The images copy the WAL-G and MinIO binaries the test suite runs (built by
# scripts/install-tools.sh) from images/staged/; stage them first.
bash scripts/docker-images.sh stage
# The dev stack has no secrets in its config; the passphrase only encrypts generated
# secrets in the local state. Set your own to keep them from anyone who can read the state.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
pulumi whoami >/dev/null 2>&1 || pulumi login --local
pulumi stack select dev --create
pulumi up --stack dev --yes --policy-pack policy "$@"
