/* sm_strategy.h: the built-in rotation functions moat runs in place of a rotation Lambda:
 * their createSecret, setSecret and testSecret steps (finishSecret, moving the labels, is
 * the same for all and lives in sm_jobs.c).
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
 */
#ifndef MOAT_SM_STRATEGY_H
#define MOAT_SM_STRATEGY_H

#include "core/arena.h"

struct sm_secret;

enum sm_strategy {
    SM_STRATEGY_NONE = 0,
    SM_STRATEGY_PG_SINGLE, /* PostgreSQL single user: ALTER ROLE ... PASSWORD */
    SM_STRATEGY_PG_MULTI,  /* PostgreSQL alternating users: a clone role, via masterarn */
    SM_STRATEGY_PASSWORD,  /* a new "password" in the secret's JSON; no external system */
};

/* The built-in rotation a RotationLambdaARN names, or NONE (a function moat can't run). */
enum sm_strategy sm_strategy_of(const struct sm_secret *s, struct moat_slice lambda_arn);

/* What a rotation step works with: the secret's values as JSON text (plaintext, in an
 * arena that wipes them). */
struct sm_rotation_values {
    struct moat_slice current; /* AWSCURRENT */
    struct moat_slice pending; /* AWSPENDING: the new value */
    struct moat_slice master;  /* PG_MULTI: the value of the secret `masterarn` names */
};

/* createSecret: the new value from the current one (a new password; PG_MULTI switches to
 * the other user). NULL, or a reason the rotation fails (never containing a secret). */
const char *sm_strategy_create(struct moat_arena *a, enum sm_strategy strategy,
                               struct moat_slice current, struct moat_slice *pending);
/* The ARN (or name) of the master secret PG_MULTI needs, from the current value. */
struct moat_slice sm_strategy_master_id(struct moat_arena *a, enum sm_strategy strategy,
                                        struct moat_slice current);
/* setSecret then testSecret against the external system. NULL on success, else a reason
 * written into errbuf (never containing a secret). */
const char *sm_strategy_set(enum sm_strategy strategy, const struct sm_rotation_values *v,
                            struct moat_arena *a, char *errbuf, size_t errlen);
const char *sm_strategy_test(enum sm_strategy strategy, const struct sm_rotation_values *v,
                             struct moat_arena *a, char *errbuf, size_t errlen);

#endif
