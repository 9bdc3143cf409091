/* protocol.h: the wire protocols AWS services speak. Every error table that
 * differs per protocol (SigV4 failures, validation) is keyed by this enum. */
#ifndef MOAT_PROTOCOL_H
#define MOAT_PROTOCOL_H

enum moat_protocol {
    MOAT_PROTO_QUERY = 0,  /* form-encoded Action/Version, XML responses (IAM, STS) */
    MOAT_PROTO_JSON,       /* AWS JSON 1.0 / 1.1 with X-Amz-Target (KMS, Secrets Manager, SSM) */
    MOAT_PROTO_REST_XML,   /* S3-style */
    MOAT_PROTO_REST_JSON,  /* REST with JSON bodies */
    MOAT_PROTO_CBOR,       /* Smithy RPC v2 CBOR (CloudWatch in newer botocore) */
    MOAT_PROTO_COUNT,
};

#endif
