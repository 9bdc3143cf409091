#!/usr/bin/env python3
"""Replays one SigV4-signed request with wrk (through ../shared/bench/sigv4_wrk.py) for
the operations the audit benchmark needs on top of the shared ones:

  cloudtrail-add-tags   CloudTrail AddTags on one trail: a mutating call (the handler
                        runs in the audit writer's transaction, with its record)
  kms-generate-random   KMS GenerateRandom: a read-only call with a JSON body

Same arguments and output as sigv4_wrk.py; ops it already has (sts-get-caller-identity)
pass straight through."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("MOAT_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
sys.path.insert(0, os.path.join(SHARED, "bench"))

import sigv4_wrk as w  # noqa: E402

TRAIL = "moatbench-trail"

w.OPS += ["cloudtrail-add-tags", "kms-generate-random"]
_setup, _call = w.setup, w._call


def setup(op, endpoint, region):
    if op == "cloudtrail-add-tags":
        ct = w.make_client("cloudtrail", endpoint, region)
        try:
            arn = ct.get_trail(Name=TRAIL)["Trail"]["TrailARN"]
        except w.botocore.exceptions.ClientError:
            arn = ct.create_trail(Name=TRAIL, S3BucketName="moatbench-bucket")["TrailARN"]
        return {"trail": arn}
    if op == "kms-generate-random":
        return {}
    return _setup(op, endpoint, region)


def call(op, endpoint, region, ctx):
    if op == "cloudtrail-add-tags":
        return "cloudtrail", lambda c: c.add_tags(ResourceId=ctx["trail"],
                                                  TagsList=[{"Key": "bench", "Value": "1"}])
    if op == "kms-generate-random":
        return "kms", lambda c: c.generate_random(NumberOfBytes=32)
    return _call(op, endpoint, region, ctx)


w.setup, w._call = setup, call

if __name__ == "__main__":
    sys.exit(w.main())
