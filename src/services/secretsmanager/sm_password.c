/* sm_password.c: random passwords (GetRandomPassword, and the new passwords of built-in
 * rotation), drawn without bias from the OpenSSL DRBG.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html */
#include "aws/shapes/shapes_secretsmanager.h"
#include "crypto/rootkey.h"
#include "services/secretsmanager/sm.h"

#include <string.h>

static const char lowers[] = "abcdefghijklmnopqrstuvwxyz";
static const char uppers[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char digits[] = "0123456789";
/* The punctuation AWS lists for ExcludePunctuation. */
static const char punct[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

void sm_password_rules_default(struct sm_password_rules *r)
{
    memset(r, 0, sizeof(*r));
    r->length = 32;
    r->require_each = true;
}

/* A uniform index below n (n <= 256). */
static size_t pick(size_t n)
{
    size_t limit = 256 - 256 % n;
    for (;;) {
        uint8_t b;
        crypto_random(&b, 1);
        if (b < limit)
            return b % n;
    }
}

static size_t keep(const char *set, struct moat_slice exclude, char *out)
{
    size_t n = 0;
    for (const char *p = set; *p; p++)
        if (!memchr(exclude.ptr ? exclude.ptr : (const uint8_t *)"", (unsigned char)*p,
                    exclude.len))
            out[n++] = *p;
    return n;
}

const char *sm_password_generate(struct moat_arena *a, const struct sm_password_rules *r,
                                 struct moat_slice *out)
{
    /* The character classes the rules allow, each minus the excluded characters. */
    char cls[5][40];
    size_t cls_len[5] = {0};
    size_t classes = 0;
    if (!r->no_lower)
        cls_len[classes] = keep(lowers, r->exclude, cls[classes]), classes++;
    if (!r->no_upper)
        cls_len[classes] = keep(uppers, r->exclude, cls[classes]), classes++;
    if (!r->no_numbers)
        cls_len[classes] = keep(digits, r->exclude, cls[classes]), classes++;
    if (!r->no_punctuation)
        cls_len[classes] = keep(punct, r->exclude, cls[classes]), classes++;
    size_t required = 0;
    char all[128];
    size_t all_len = 0;
    for (size_t i = 0; i < classes; i++) {
        memcpy(all + all_len, cls[i], cls_len[i]);
        all_len += cls_len[i];
        required += cls_len[i] ? 1 : 0;
    }
    if (r->space &&
        !memchr(r->exclude.ptr ? r->exclude.ptr : (const uint8_t *)"", ' ', r->exclude.len))
        all[all_len++] = ' ';
    if (!all_len)
        return "The password can't be generated: every character type is excluded.";
    if (r->require_each && (size_t)r->length < required)
        return "Password length is too short based on the required types.";
    size_t len = (size_t)r->length;
    char *pw = moat_arena_alloc(a, len + 1);
    moat_arena_wipe_on_free(a, pw, len + 1);
    size_t pos = 0;
    if (r->require_each)
        for (size_t i = 0; i < classes; i++)
            if (cls_len[i])
                pw[pos++] = cls[i][pick(cls_len[i])];
    while (pos < len)
        pw[pos++] = all[pick(all_len)];
    /* Fisher-Yates, so that the required characters are not all at the front. */
    for (size_t i = len; i > 1; i--) {
        size_t j;
        if (i <= 256) {
            j = pick(i);
        } else {
            uint32_t v;
            uint32_t limit = UINT32_MAX - UINT32_MAX % (uint32_t)i;
            do
                crypto_random(&v, sizeof(v));
            while (v >= limit);
            j = v % i;
        }
        char t = pw[i - 1];
        pw[i - 1] = pw[j];
        pw[j] = t;
    }
    pw[len] = 0;
    *out = moat_slice(pw, len);
    return NULL;
}

SM_HANDLER(sm_get_random_password)
{
    struct sm_password_rules r;
    sm_password_rules_default(&r);
    r.length = moat_get_int(in, SECRETSMANAGER_GET_RANDOM_PASSWORD_REQUEST_PASSWORD_LENGTH, 32);
    r.exclude = moat_get_str(in, SECRETSMANAGER_GET_RANDOM_PASSWORD_REQUEST_EXCLUDE_CHARACTERS);
    r.no_numbers =
        moat_get_bool(in, SECRETSMANAGER_GET_RANDOM_PASSWORD_REQUEST_EXCLUDE_NUMBERS, false);
    r.no_punctuation =
        moat_get_bool(in, SECRETSMANAGER_GET_RANDOM_PASSWORD_REQUEST_EXCLUDE_PUNCTUATION, false);
    r.no_upper =
        moat_get_bool(in, SECRETSMANAGER_GET_RANDOM_PASSWORD_REQUEST_EXCLUDE_UPPERCASE, false);
    r.no_lower =
        moat_get_bool(in, SECRETSMANAGER_GET_RANDOM_PASSWORD_REQUEST_EXCLUDE_LOWERCASE, false);
    r.space = moat_get_bool(in, SECRETSMANAGER_GET_RANDOM_PASSWORD_REQUEST_INCLUDE_SPACE, false);
    r.require_each = moat_get_bool(
        in, SECRETSMANAGER_GET_RANDOM_PASSWORD_REQUEST_REQUIRE_EACH_INCLUDED_TYPE, true);
    struct moat_slice pw;
    const char *why = sm_password_generate(call->arena, &r, &pw);
    if (why)
        return moat_fail(call, &sm_invalid_parameter, "%s", why);
    moat_set_str(call->arena, out, SECRETSMANAGER_GET_RANDOM_PASSWORD_RESPONSE_RANDOM_PASSWORD, pw);
    return NULL;
}
