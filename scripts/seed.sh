#!/usr/bin/env bash
# Before `make up`: give the stack, once, a credential seed (spaceone:credentialSeed, a Pulumi
# secret encrypted with the stack's passphrase). Every generated password is derived from it,
# so the passwords stay the same when their Secrets are re-created: after a destroy that kept
# the stores' volumes (stores.keepVolumes), or after an interrupted up.
# Usage: seed.sh STACK   (env from scripts/env.sh, run in the project directory)
set -euo pipefail
STACK=${1:?stack}
if ! pulumi config get credentialSeed --stack "$STACK" >/dev/null 2>&1; then
  head -c 32 /dev/urandom | base64 | pulumi config set --secret credentialSeed --stack "$STACK"
  echo "seed: stack $STACK has a new credential seed for its generated passwords (spaceone:credentialSeed, a secret)"
fi
