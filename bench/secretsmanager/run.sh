#!/bin/sh
# run.sh: Secrets Manager GetSecretValue throughput and latency (op secrets-get: one JSON
# secret under aws/secretsmanager) on moat beside moto_server in the same run, through the
# shared harness bench/kms/run.sh (its settings apply; ROUNDS defaults to 3 here). Each moat
# request is verified (SigV4), authorised twice (the secret for the caller; the KMS key
# policy with kms:ViaService for the Decrypt Secrets Manager makes on the caller's behalf),
# decrypted (KMS data key, then AES-256-GCM), and leaves two CloudTrail records
# (GetSecretValue and its kms Decrypt) group-committed before the answer.
#
#   make -j2 BUILD=build all && bench/secretsmanager/run.sh
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OPS=${OPS:-secrets-get} ROUNDS=${ROUNDS:-3} exec "$HERE/../kms/run.sh"
