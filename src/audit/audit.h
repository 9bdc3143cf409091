/* audit.h: every request's CloudTrail record, committed durably before the
 * response is released. One writer thread per process group-commits
 * records (and the state changes of mutating calls, under savepoints) in one
 * transaction, extends the hash chain and then releases the responses. */
#ifndef MOAT_AUDIT_H
#define MOAT_AUDIT_H

#include "core/arena.h"
#include "store/store.h"

struct moat_server;
struct moat_call;
struct audit_writer;

/* Runs on the writer thread inside the batch transaction (call->db is the
 * writer's connection): a mutating operation's handler. Sets call->error on failure. */
typedef void (*audit_exec_fn)(struct moat_call *call);
/* Runs on the writer thread after the batch: durable is false when the commit
 * failed (the call's state change was rolled back and its record is lost). */
typedef void (*audit_done_fn)(struct moat_call *call, bool durable);

struct audit_writer *audit_writer_start(struct moat_server *srv);
/* Drains the queue, then stops the thread. */
void audit_writer_stop(struct audit_writer *w);
void audit_submit(struct audit_writer *w, struct moat_call *call, audit_exec_fn exec,
                  audit_done_fn done);

/* The account that owns the resources of a cross-account call (the caller's
 * account differs from call->authz.resource_account), or NULL. */
const char *audit_cross_account(const struct moat_call *call);
/* The CloudTrail record of a finished call (JSON, in the call's arena) and the
 * LookupEvents columns of its row, in rows[0]. With `owner` (another account
 * that exists), the resource owner's copy too, in rows[1]: its recipient is
 * the owner, the caller appears as type AWSAccount, and both copies carry one
 * sharedEventID. Returns the number of rows (1 or 2). Text columns and the
 * record are always valid UTF-8, whatever the request carried. */
size_t audit_record_build(struct moat_call *call, const char *owner,
                          struct store_audit_row rows[2]);

/* hash = SHA-256(prev_hash || seq as 8 bytes big-endian || record). */
void audit_chain_hash(const uint8_t prev[32], int64_t seq, struct moat_slice record,
                      uint8_t out[32]);

struct audit_verify_report {
    int64_t records;     /* records checked */
    int64_t first_bad;   /* 0 when the chain verifies */
    const char *problem; /* what is wrong at first_bad */
};
/* Walks the whole chain from seq 1: gapless sequence, each prev_hash equal to
 * the previous hash, each hash recomputed from the stored record, the row's
 * LookupEvents columns equal to what its record says, and the head equal to
 * the last record. */
bool audit_verify(struct store_conn *db, struct audit_verify_report *report);
/* NULL when a row's columns (account, event id, name, source, user name, access
 * key, read-only and management flags, time, resources) match its record;
 * otherwise what differs. */
const char *audit_row_check(struct moat_arena *a, const struct store_audit_row *row);

#endif
