/* service.h: what a service module supplies (one table of operations) and
 * what a handler receives (struct moat_call). Authorization and audit read
 * the table; a handler only does the operation. */
#ifndef MOAT_SERVICE_H
#define MOAT_SERVICE_H

#include "aws/shape.h"
#include "core/error.h"

struct moat_call;
struct moat_server;
struct moat_authz;
struct authz_principal_policies;
struct iam_principal;
struct iam_context;
struct store_conn;
struct http_request;

typedef struct moat_error *(*moat_handler_fn)(struct moat_call *call, const struct moat_value *in,
                                               struct moat_value *out);

/* Names the resources an operation touches and adds its service condition
 * keys, from the decoded input. May load state (a KMS key's policy). Runs
 * before the handler; an error here (e.g. NotFoundException) is returned as is. */
typedef struct moat_error *(*moat_authz_fn)(struct moat_call *call, const struct moat_value *in,
                                             struct moat_authz *authz);

/* Fills requestParameters / responseElements for CloudTrail when the generic
 * rule (input and output members, camelCase, sensitive members omitted) is
 * not what AWS logs. Either pointer may be set to NULL (logged as null). */
typedef void (*moat_audit_fn)(struct moat_call *call, struct moat_value **request_parameters,
                              struct moat_value **response_elements);

enum moat_op_flag {
    MOAT_OP_READ_ONLY = 0,       /* no state change: runs on the loop thread */
    MOAT_OP_MUTATES = 1 << 0,    /* runs inside the writer's transaction with its audit record */
    MOAT_OP_DATA_EVENT = 1 << 1, /* CloudTrail data event (not a management event) */
    MOAT_OP_NO_AUTHZ = 1 << 2,   /* AWS authorises nothing (sts:GetCallerIdentity) */
    MOAT_OP_LOG_RESPONSE = 1 << 3, /* log responseElements for a read-only call */
    MOAT_OP_READ_ONLY_EVENT = 1 << 4, /* CloudTrail readOnly although it writes (STS issuing
                                         credentials) */
};

struct moat_operation {
    unsigned shape;          /* index in the service's generated ops (e.g. KMS_OP_ENCRYPT) */
    moat_handler_fn handler;
    const char *action;      /* IAM action, "kms:Encrypt" */
    moat_authz_fn authz;     /* NULL: resource "*" and no service keys */
    unsigned flags;          /* enum moat_op_flag */
    moat_audit_fn audit;     /* NULL: the generic rule */
};

struct moat_service {
    const char *name;          /* signing name and ARN service: "kms" */
    const char *event_source;  /* "kms.amazonaws.com" */
    const struct moat_service_shapes *shapes;
    const struct moat_operation *operations;
    size_t operation_count;
    const struct moat_error_kind *validation_error; /* ValidationException or ValidationError */
    const struct moat_error_kind *access_denied;    /* AccessDeniedException (400/403) or AccessDenied */
    bool global;               /* IAM-style: one region (us-east-1) for ARNs and events */
    /* Called once at start-up (after the store is open); may be NULL. */
    bool (*init)(struct moat_server *server);
};

/* ---- the call a handler receives --------------------------------------- */

#define MOAT_AUTHZ_MAX_RESOURCES 16

/* What authorization evaluates, filled from the operation row and its authz fn. */
struct moat_authz {
    const char *action;                 /* defaults to the row's action */
    const char *resources[MOAT_AUTHZ_MAX_RESOURCES]; /* ARNs; none = "*" */
    size_t resource_count;
    const char *resource_account;       /* owner of the resources (default: caller's) */
    const struct iam_policy *resource_policy; /* key policy, secret policy, trust policy */
    bool kms_key;                       /* the key policy must allow the account first */
    bool trust;                         /* role trust policy evaluation */
    struct iam_context *context;        /* request context; services add their keys */
    const char *resource_types[MOAT_AUTHZ_MAX_RESOURCES]; /* CloudTrail resource types */
    /* Consulted when the policies leave resource i implicitly denied (an explicit deny
     * still wins): true allows it. KMS grants use it. NULL: nothing more to consult. */
    bool (*grant_check)(struct moat_call *call, size_t i);
};

struct moat_call {
    struct moat_arena *arena;
    struct moat_server *server;
    const struct moat_service *service;
    const struct moat_operation *op;
    const struct moat_op_shape *op_shape;
    struct http_request *http;          /* NULL for internal calls */
    enum moat_protocol protocol;

    /* who and where */
    struct iam_principal *principal;
    const char *account_id;             /* the caller's account */
    const char *region;
    char request_id[40];
    int64_t now_ms;                     /* service time when the request arrived */
    struct moat_slice source_ip;
    struct moat_slice user_agent;
    bool secure_transport;
    struct moat_slice access_key_id;
    const char *via_service;            /* internal calls: the calling service's name ("secretsmanager") */
    void *service_data;                 /* the service's per-call state (authz fn to handler) */

    /* state */
    struct store_conn *db;              /* loop's read connection, or the writer's inside its txn */
    bool writable;                      /* db is the writer's, inside its transaction */

    /* request / response */
    struct moat_value *input;
    struct moat_value *output;
    struct moat_error *error;
    struct moat_authz authz;

    /* audit: resources named in the record (type, ARN) */
    size_t audit_resource_count;
    const char *audit_resource_types[MOAT_AUTHZ_MAX_RESOURCES];
    const char *audit_resource_arns[MOAT_AUTHZ_MAX_RESOURCES];
    struct moat_value *additional_event_data; /* CloudTrail additionalEventData, optional */
    bool error_is_denial;               /* error came from authorization */

    /* calls made on this call's behalf (recorded with it, before it) */
    struct moat_call *first_child, *last_child, *next_sibling;
    struct moat_call *parent;
    struct authz_principal_policies *principal_policies; /* loaded once per call */

    /* service events (scheduler work): eventType AwsServiceEvent */
    const char *event_type;             /* NULL: "AwsApiCall" */
    const char *event_name;             /* when there is no operation row */
    struct moat_value *service_event_details;
    bool read_only_event;               /* service events: readOnly */
};

/* Formats the message into the call's arena. */
struct moat_error *moat_fail(struct moat_call *call, const struct moat_error_kind *kind,
                             const char *fmt, ...) MOAT_PRINTF(3, 4);
/* InternalFailure with a generic message; `why` goes to the log only. */
struct moat_error *moat_internal(struct moat_call *call, const char *why);
/* Names a resource in the call's CloudTrail record. */
void moat_call_add_resource(struct moat_call *call, const char *type, const char *arn);

/* A service's record stored as a JSON object in call->db, in the call's arena.
 * get: *found false (and NULL) when absent; an unreadable record is an internal
 * failure. put with the version read (STORE_MUST_NOT_EXIST, STORE_ANY_VERSION):
 * a version conflict fails with `conflict` and its message. delete: absent is fine. */
struct moat_error *moat_record_get(struct moat_call *call, const char *ns, struct moat_slice key,
                                   struct moat_value **rec, int64_t *version, bool *found);
struct moat_error *moat_record_put(struct moat_call *call, const char *ns, struct moat_slice key,
                                   const struct moat_value *rec, int64_t version,
                                   const struct moat_error_kind *conflict,
                                   const char *conflict_message);
struct moat_error *moat_record_delete(struct moat_call *call, const char *ns,
                                      struct moat_slice key);

/* Runs an operation of another service on behalf of `parent`'s principal, the
 * way AWS services call each other (Secrets Manager calling KMS): the child is
 * authorised with aws:ViaAWSService / aws:CalledVia and the via-service keys,
 * recorded in CloudTrail with invokedBy and the service as source, and
 * committed with the parent. A mutating child needs a mutating parent.
 * Returns the child call; its output or error is set. */
struct moat_call *moat_call_internal(struct moat_call *parent, const char *service,
                                     const char *operation, struct moat_value *input);
/* The input struct for an internal call to service/operation (to fill by member id). */
struct moat_value *moat_call_internal_input(struct moat_call *parent, const char *service,
                                            const char *operation);

#endif
