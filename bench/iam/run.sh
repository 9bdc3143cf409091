#!/bin/sh
# run.sh: IAM and STS throughput of moat beside moto_server in the same run (and
# nginx's fixed response for scale): sts get-caller-identity (authenticated, never
# authorised: the floor every request pays), iam get-user (authorised, read from the
# store) and sts assume-role (trust policy evaluated, temporary credentials issued).
# The same harness as bench/kms/run.sh, with these ops; its settings apply.
#
#   make -j2 BUILD=build all && bench/iam/run.sh
#
# What authorisation itself costs is bench/iam/e2e.py (root against an IAM user
# with a realistic policy set) and bench/iam/bench_iam_eval.c (the evaluator alone).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OPS=${OPS:-"sts-get-caller-identity iam-get-user sts-assume-role"} exec "$HERE/../kms/run.sh"
