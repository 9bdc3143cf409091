/* iam_compiled.h: the in-memory form of a compiled policy, shared by the compiler
 * (iam_policy.c), the condition operators (iam_condition.c) and the evaluator. Internal
 * to src/iam: other modules use iam_policy.h and iam_eval.h. */
#ifndef MOAT_IAM_COMPILED_H
#define MOAT_IAM_COMPILED_H

#include "core/arena.h"
#include "iam/iam_glob.h"
#include "iam/iam_policy.h"

#include <stdatomic.h>

/* A string that contains policy variables, split into pieces. */
enum iam_piece_kind {
    IAM_PIECE_TEXT = 0, /* policy text; in glob contexts its '*' and '?' are wildcards */
    IAM_PIECE_CHAR,     /* ${*}, ${?} or ${$}: always a literal character */
    IAM_PIECE_VAR,      /* ${key} or ${key, 'default'} */
};

struct iam_piece {
    enum iam_piece_kind kind;
    bool has_default;
    uint32_t hash;          /* VAR: iam_key_hash(text) */
    struct moat_slice text; /* TEXT: the text; CHAR: the character; VAR: the key */
    struct moat_slice dflt; /* VAR with a default */
};

struct iam_template {
    const struct iam_piece *pieces;
    uint32_t count; /* 0: the string has no variable */
};

/* An ARN pattern split on its first five colons; the last part spans the rest. */
#define IAM_ARN_PARTS 6
struct iam_arn_pattern {
    struct iam_glob part[IAM_ARN_PARTS];
    uint8_t count;
    /* Every part but the last is literal: the pattern is one glob over the whole text
     * (`whole`), matched in one go. */
    bool flat;
    struct iam_glob whole;
};

struct iam_action_pattern {
    bool any;                /* "*" */
    struct iam_glob service; /* lowercase */
    struct iam_glob name;    /* lowercase */
};

struct iam_resource_pattern {
    bool any; /* "*" */
    /* Variables only after the fifth colon: arn holds the first five parts, compiled,
     * and tmpl the resource part alone. */
    bool split;
    struct iam_template tmpl; /* count > 0: expanded at evaluation */
    struct iam_arn_pattern arn;
};

enum iam_aws_entry_kind {
    IAM_AWS_ACCOUNT = 0, /* "123456789012" or arn:...:iam::123456789012:root */
    IAM_AWS_ARN,         /* a user, role, session or federated-user ARN */
    IAM_AWS_UNIQUE_ID,   /* AIDA... / AROA... (what IAM stores for a named user or role) */
};

struct iam_aws_entry {
    enum iam_aws_entry_kind kind;
    struct moat_slice value;   /* normalised: accounts become arn:aws:iam::ID:root */
    struct moat_slice account; /* ACCOUNT and ARN: the 12-digit account */
};

struct iam_principal_set {
    bool any; /* "*" or {"AWS": "*"} */
    uint32_t aws_count, service_count, federated_count, canonical_count;
    const struct iam_aws_entry *aws;
    const struct moat_slice *services;
    const struct moat_slice *federated;
    const struct moat_slice *canonical;
};

enum iam_cond_family {
    IAM_FAM_STRING = 0,
    IAM_FAM_NUMERIC,
    IAM_FAM_DATE,
    IAM_FAM_BOOL,
    IAM_FAM_BINARY,
    IAM_FAM_IP,
    IAM_FAM_ARN,
    IAM_FAM_NULL,
};

/* Base operators; each negated one is evaluated as NOT of its positive comparison. */
enum iam_cond_op {
    IAM_OP_STRING_EQUALS = 0,
    IAM_OP_STRING_NOT_EQUALS,
    IAM_OP_STRING_EQUALS_IGNORE_CASE,
    IAM_OP_STRING_NOT_EQUALS_IGNORE_CASE,
    IAM_OP_STRING_LIKE,
    IAM_OP_STRING_NOT_LIKE,
    IAM_OP_NUMERIC_EQUALS,
    IAM_OP_NUMERIC_NOT_EQUALS,
    IAM_OP_NUMERIC_LESS_THAN,
    IAM_OP_NUMERIC_LESS_THAN_EQUALS,
    IAM_OP_NUMERIC_GREATER_THAN,
    IAM_OP_NUMERIC_GREATER_THAN_EQUALS,
    IAM_OP_DATE_EQUALS,
    IAM_OP_DATE_NOT_EQUALS,
    IAM_OP_DATE_LESS_THAN,
    IAM_OP_DATE_LESS_THAN_EQUALS,
    IAM_OP_DATE_GREATER_THAN,
    IAM_OP_DATE_GREATER_THAN_EQUALS,
    IAM_OP_BOOL,
    IAM_OP_BINARY_EQUALS,
    IAM_OP_IP_ADDRESS,
    IAM_OP_NOT_IP_ADDRESS,
    IAM_OP_ARN_EQUALS,
    IAM_OP_ARN_LIKE,
    IAM_OP_ARN_NOT_EQUALS,
    IAM_OP_ARN_NOT_LIKE,
    IAM_OP_NULL,
    IAM_OP_COUNT,
};

enum iam_set_mode { IAM_SET_NONE = 0, IAM_SET_FOR_ALL, IAM_SET_FOR_ANY };

struct iam_number {
    bool is_int;
    int64_t i;
    double d;
};

struct iam_cidr {
    uint8_t family; /* 4 or 6 */
    uint8_t prefix; /* bits */
    uint8_t addr[16];
};

struct iam_cond_value {
    struct moat_slice text;   /* the value as written (numbers and booleans as JSON text) */
    struct iam_template tmpl; /* count > 0: variables, resolved at evaluation */
    bool valid;               /* the pre-parsed form below is usable */
    union {
        struct iam_glob glob;       /* StringLike family (escaped) */
        struct iam_arn_pattern arn; /* Arn family (escaped) */
        struct iam_number num;
        int64_t date_ms;
        struct iam_cidr cidr;
        struct moat_slice bytes; /* BinaryEquals: decoded */
        bool b;                  /* Bool, Null */
    } u;
};

struct iam_condition {
    enum iam_cond_op op;
    enum iam_set_mode set;
    bool if_exists;
    bool negated;
    uint32_t key_hash;
    struct moat_slice key;
    const struct iam_cond_value *values;
    uint32_t value_count;
};

struct iam_statement {
    /* Bit (hash of a service prefix & 63) of every service its Action names; all bits set
     * when an action pattern has a wildcard service, or for NotAction. A request whose
     * service bit is clear cannot match: a one-instruction filter. */
    uint64_t service_bloom;
    bool allow;
    bool not_action;
    bool not_resource;
    bool has_resource; /* false in trust policies: the statement is about the role itself */
    bool has_principal;
    bool not_principal;
    uint32_t action_count, resource_count, condition_count;
    const struct iam_action_pattern *actions;
    const struct iam_resource_pattern *resources;
    const struct iam_condition *conditions;
    struct iam_principal_set principals;
    struct moat_slice sid;
    struct iam_position start, end;
};

struct iam_policy {
    atomic_uint refs;
    enum iam_policy_kind kind;
    bool variables; /* Version 2012-10-17: ${...} are variables */
    uint32_t statement_count;
    struct moat_arena *arena; /* owns everything below */
    const struct iam_statement *statements;
    struct moat_slice text;
    struct moat_slice version;
};

/* Condition operators (iam_condition.c). */
struct iam_op_info {
    const char *name;
    enum iam_cond_family family;
    bool negated;
    bool variables; /* policy variables allowed in its values */
};
extern const struct iam_op_info iam_op_table[IAM_OP_COUNT];

/* Parses "ForAnyValue:StringLikeIfExists" and the like. False for an unknown operator
 * or a combination AWS does not allow (NullIfExists, a set prefix on Null). */
bool iam_condition_parse_operator(struct moat_slice name, enum iam_cond_op *op,
                                  enum iam_set_mode *set, bool *if_exists);
/* Pre-parses a condition value for its operator (no variables in it); sets v->valid. */
void iam_condition_prepare_value(struct moat_arena *a, enum iam_cond_op op,
                                 struct iam_cond_value *v, struct moat_slice escaped_glob);

bool iam_parse_number(struct moat_slice s, struct iam_number *out);
int iam_number_cmp(const struct iam_number *a, const struct iam_number *b);
/* ISO 8601 (date or date-time) or epoch seconds (integer or decimal). */
bool iam_parse_date(struct moat_slice s, int64_t *ms);
/* An IPv4 or IPv6 address with an optional /prefix (a bare address is /32 or /128). */
bool iam_parse_cidr(struct moat_slice s, struct iam_cidr *out);
bool iam_cidr_contains(const struct iam_cidr *net, const struct iam_cidr *ip);

/* The bit a service prefix sets in iam_statement.service_bloom. */
static inline uint64_t iam_service_bit(uint32_t hash)
{
    return (uint64_t)1 << (hash & 63);
}

/* Splits an (escaped) ARN pattern into parts. */
void iam_arn_pattern_init(struct iam_arn_pattern *p, struct moat_slice escaped);

#endif
