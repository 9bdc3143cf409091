/* test_sts_info.c: encoded authorization messages: what the encoder seals decodes back
 * to AWS's layout for the account it was made for, and nothing else decodes. */
#include "harness.h"

#include "aws/shapes/shapes_sts.h"
#include "core/json.h"
#include "crypto/rootkey.h"
#include "iam/iam_context.h"
#include "server/server.h"
#include "services/sts/sts.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct fixture {
    struct moat_server srv;
    struct moat_call call;
    struct iam_principal p;
    struct iam_context ctx;
    char path[64];
};

static bool setup(struct moat_arena *a, struct fixture *f, const char *account)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "/tmp/moat-test-rootkey-%d", (int)getpid());
    unlink(f->path);
    char err[256];
    f->srv.rootkey = rootkey_open(f->path, true, err, sizeof(err));
    if (!f->srv.rootkey)
        return false;
    f->p.type = IAM_PRINCIPAL_USER;
    f->p.account_id = moat_slice_cstr(account);
    f->p.arn = MOAT_LIT("arn:aws:iam::111122223333:user/bob");
    f->p.principal_id = MOAT_LIT("AIDAEXAMPLEEXAMPLE01");
    f->p.name = MOAT_LIT("bob");
    iam_context_init(&f->ctx, a);
    if (!iam_context_set(&f->ctx, MOAT_LIT("aws:SourceIp"), MOAT_LIT("127.0.0.1")))
        return false;
    f->call.arena = a;
    f->call.server = &f->srv;
    f->call.principal = &f->p;
    f->call.account_id = account;
    f->call.authz.context = &f->ctx;
    return true;
}

static void teardown(struct fixture *f)
{
    rootkey_close(f->srv.rootkey);
    unlink(f->path);
}

static struct moat_error *decode(struct fixture *f, struct moat_arena *a, struct moat_slice msg,
                                 struct moat_slice *json)
{
    const struct moat_op_shape *op = &sts_shapes.ops[STS_OP_DECODE_AUTHORIZATION_MESSAGE];
    struct moat_value *in = moat_struct_new(a, op->input);
    struct moat_value *out = moat_struct_new(a, op->output);
    moat_set_str(a, in, STS_DECODE_AUTHORIZATION_MESSAGE_REQUEST_ENCODED_MESSAGE, msg);
    struct moat_error *err = sts_decode_authorization_message(&f->call, in, out);
    *json = moat_get_str(out, STS_DECODE_AUTHORIZATION_MESSAGE_RESPONSE_DECODED_MESSAGE);
    return err;
}

MOAT_TEST(round_trip)
{
    struct fixture f;
    CHECK(setup(a, &f, "111122223333"));
    struct iam_eval_result r = {.decision = IAM_DECISION_IMPLICIT_DENY,
                                .cause = IAM_PTYPE_IDENTITY};
    struct moat_slice msg = sts_encode_authorization_message(
        &f.call, "ec2:RunInstances", "arn:aws:ec2:us-east-1:111122223333:instance/*", &r, NULL);
    CHECK(msg.len > 32);
    struct moat_slice json;
    CHECK(decode(&f, a, msg, &json) == NULL);
    struct moat_value *doc;
    CHECK(moat_json_parse(a, json, 0, &doc, NULL));
    CHECK(moat_map_get(doc, "allowed")->u.b == false);
    CHECK(moat_map_get(doc, "explicitDeny")->u.b == false);
    struct moat_value *ctx = moat_map_get(doc, "context");
    CHECK_SLICE(moat_map_str(ctx, "action"), "ec2:RunInstances");
    CHECK_SLICE(moat_map_str(moat_map_get(ctx, "principal"), "arn"),
                "arn:aws:iam::111122223333:user/bob");
    struct moat_value *conds = moat_map_get(moat_map_get(ctx, "conditions"), "items");
    CHECK(conds && conds->count == 1);
    if (conds && conds->count == 1)
        CHECK_SLICE(moat_map_str(conds->u.items[0], "key"), "aws:SourceIp");
    /* another account cannot open it, nor can anyone open a changed one */
    f.call.account_id = "444455556666";
    struct moat_error *e = decode(&f, a, msg, &json);
    CHECK(e && e->kind == &sts_invalid_authorization_message);
    f.call.account_id = "111122223333";
    uint8_t *bad = moat_arena_alloc(a, msg.len);
    memcpy(bad, msg.ptr, msg.len);
    bad[msg.len / 2] = bad[msg.len / 2] == 'A' ? 'B' : 'A';
    e = decode(&f, a, moat_slice(bad, msg.len), &json);
    CHECK(e && e->kind == &sts_invalid_authorization_message);
    e = decode(&f, a, MOAT_LIT("not base64 at all!"), &json);
    CHECK(e && e->kind == &sts_invalid_authorization_message);
    teardown(&f);
}

MOAT_TEST_MAIN(MOAT_CASE(round_trip))
