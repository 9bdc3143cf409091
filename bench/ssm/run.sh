#!/bin/sh
# run.sh: Parameter Store GetParameter WithDecryption on a SecureString (op ssm-get: a
# customer KMS key, one standard SecureString) on moat beside moto_server in the same run,
# through the shared harness bench/kms/run.sh (its settings apply; ROUNDS defaults to 3
# here). Every moat request is two CloudTrail records (ssm GetParameter and the kms Decrypt
# it makes on the caller's behalf), authorised twice (SSM identity policy, KMS key policy
# with kms:ViaService) and group-committed. README.md has measured figures.
#
#   make -j2 BUILD=build all && bench/ssm/run.sh
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OPS=${OPS:-ssm-get} ROUNDS=${ROUNDS:-3} exec "$HERE/../kms/run.sh"
