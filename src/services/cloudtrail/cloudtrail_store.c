/* cloudtrail_store.c: trail records in the store (one JSON document per trail,
 * keyed account/home region/name), trail names and ARNs, and the lookup of the
 * trail a Name parameter designates, shadow trails of other regions included. */
#include "services/cloudtrail/cloudtrail.h"

#include "core/json.h"
#include "iam/iam_principal.h"
#include "store/store.h"

#include <string.h>

/* https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html (Name) */
struct moat_error *cloudtrail_check_name(struct moat_call *call, struct moat_slice name)
{
    const struct moat_error_kind *k = &cloudtrail_invalid_trail_name;
    for (size_t i = 0; i < name.len; i++) {
        uint8_t c = name.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_';
        if (!ok)
            return moat_fail(call, k,
                             "Trail name or ARN can only contain uppercase letters, lowercase "
                             "letters, numbers, periods (.), hyphens (-), and underscores (_).");
    }
    if (name.len < 3)
        return moat_fail(call, k,
                         "Trail name too short. Minimum allowed length: 3 characters. Specified "
                         "name length: %zu characters.",
                         name.len);
    if (name.len > 128)
        return moat_fail(call, k,
                         "Trail name too long. Maximum allowed length: 128 characters. Specified "
                         "name length: %zu characters.",
                         name.len);
    uint8_t first = name.ptr[0], last = name.ptr[name.len - 1];
    if (first == '.' || first == '-' || first == '_')
        return moat_fail(call, k, "Trail name must starts with a letter or number.");
    if (last == '.' || last == '-' || last == '_')
        return moat_fail(call, k, "Trail name must ends with a letter or number.");
    for (size_t i = 1; i < name.len; i++) {
        bool p = name.ptr[i - 1] == '.' || name.ptr[i - 1] == '-' || name.ptr[i - 1] == '_';
        bool c = name.ptr[i] == '.' || name.ptr[i] == '-' || name.ptr[i] == '_';
        if (p && c)
            return moat_fail(call, k,
                             "Trail name cannot contain adjacent periods (.), hyphens (-) or "
                             "underscores (_).");
    }
    /* Not in IP address format (four dot-separated numbers). */
    int dots = 0;
    bool digits_and_dots = true;
    for (size_t i = 0; i < name.len; i++) {
        if (name.ptr[i] == '.')
            dots++;
        else if (name.ptr[i] < '0' || name.ptr[i] > '9')
            digits_and_dots = false;
    }
    if (digits_and_dots && dots == 3)
        return moat_fail(call, k, "Trail name cannot be in IP address format.");
    return NULL;
}

const char *cloudtrail_trail_arn(struct moat_call *call, const char *region, struct moat_slice name)
{
    return moat_arena_printf(call->arena, "arn:aws:cloudtrail:%s:%s:trail/%.*s", region,
                             call->account_id, MOAT_FMT(name));
}

bool cloudtrail_parse_trail_arn(struct moat_slice arn, struct moat_slice *region,
                                struct moat_slice *account, struct moat_slice *name)
{
    struct moat_slice rest = arn, part;
    static const char *const expect[] = {"arn", NULL, "cloudtrail"};
    for (int i = 0; i < 3; i++) {
        if (!moat_slice_split(&rest, ':', &part))
            return false;
        if (expect[i] && !moat_slice_eq_cstr(part, expect[i]))
            return false;
        if (!expect[i] && !moat_slice_eq_cstr(part, "aws") && !moat_slice_eq_cstr(part, "aws-cn") &&
            !moat_slice_eq_cstr(part, "aws-us-gov"))
            return false;
    }
    if (!moat_slice_split(&rest, ':', region) || region->len < 4)
        return false;
    if (!moat_slice_split(&rest, ':', account) || account->len != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (account->ptr[i] < '0' || account->ptr[i] > '9')
            return false;
    if (!moat_slice_starts_with(rest, MOAT_LIT("trail/")))
        return false;
    *name = moat_slice_sub(rest, 6, rest.len);
    return name->len > 0;
}

static bool load(struct moat_call *call, struct moat_slice key, struct cloudtrail_record *out,
                 struct moat_error **err)
{
    struct store_record r;
    enum store_status st = store_get(call->db, call->arena, CLOUDTRAIL_NS_TRAIL, key, &r);
    *err = NULL;
    if (st == STORE_NOT_FOUND)
        return false;
    if (st != STORE_OK) {
        *err = moat_internal(call, "cloudtrail: trail read failed");
        return false;
    }
    memset(out, 0, sizeof(*out));
    if (!moat_json_parse(call->arena, r.value, 0, &out->doc, NULL) ||
        out->doc->type != MOAT_V_MAP) {
        *err = moat_internal(call, "cloudtrail: stored trail is not JSON");
        return false;
    }
    out->key = r.key;
    out->version = r.version;
    out->name = moat_arena_cstr(call->arena, moat_map_str(out->doc, "Name"));
    out->home_region = moat_arena_cstr(call->arena, moat_map_str(out->doc, "HomeRegion"));
    out->arn = moat_arena_cstr(call->arena, moat_map_str(out->doc, "TrailARN"));
    if (moat_map_bool(out->doc, "IsOrganizationTrail", false))
        out->indexed_org = moat_map_str(out->doc, "OrganizationId");
    return true;
}

static struct moat_slice trail_key(struct moat_call *call, struct moat_slice account,
                                   struct moat_slice region, struct moat_slice name)
{
    return moat_slice_cstr(moat_arena_printf(call->arena, "%.*s/%.*s/%.*s", MOAT_FMT(account),
                                             MOAT_FMT(region), MOAT_FMT(name)));
}

static bool parse_into(struct moat_call *call, const struct store_record *rec,
                       struct cloudtrail_record *t)
{
    memset(t, 0, sizeof(*t));
    if (!moat_json_parse(call->arena, rec->value, 0, &t->doc, NULL) || t->doc->type != MOAT_V_MAP)
        return false;
    t->key = rec->key;
    t->version = rec->version;
    t->name = moat_arena_cstr(call->arena, moat_map_str(t->doc, "Name"));
    t->home_region = moat_arena_cstr(call->arena, moat_map_str(t->doc, "HomeRegion"));
    t->arn = moat_arena_cstr(call->arena, moat_map_str(t->doc, "TrailARN"));
    if (moat_map_bool(t->doc, "IsOrganizationTrail", false))
        t->indexed_org = moat_map_str(t->doc, "OrganizationId");
    return true;
}

/* The caller's organization, when authorization found one. */
static struct moat_slice caller_org(const struct moat_call *call)
{
    return call->principal ? call->principal->org_id : MOAT_NULL_SLICE;
}

struct moat_error *cloudtrail_list_all(struct moat_call *call, bool with_org,
                                       struct cloudtrail_record **out, size_t *count)
{
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "%s/", call->account_id));
    struct store_record *recs, *org_recs = NULL;
    size_t n, org_n = 0;
    bool more;
    /* At most five trails per region: one page holds an account's trails. */
    if (store_scan(call->db, call->arena, CLOUDTRAIL_NS_TRAIL, prefix, MOAT_NULL_SLICE, 4096, &recs,
                   &n, &more) != STORE_OK)
        return moat_internal(call, "cloudtrail: trail scan failed");
    struct moat_slice org = caller_org(call);
    if (with_org && org.len) {
        struct moat_slice oprefix =
            moat_slice_cstr(moat_arena_printf(call->arena, "%.*s/", MOAT_FMT(org)));
        if (store_scan(call->db, call->arena, CLOUDTRAIL_NS_ORG_TRAIL, oprefix, MOAT_NULL_SLICE,
                       4096, &org_recs, &org_n, &more) != STORE_OK)
            return moat_internal(call, "cloudtrail: organization trail scan failed");
    }
    struct cloudtrail_record *list =
        moat_arena_calloc(call->arena, (n + org_n ? n + org_n : 1) * sizeof(*list));
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (!parse_into(call, &recs[i], &list[used]))
            return moat_internal(call, "cloudtrail: stored trail is not JSON");
        used++;
    }
    for (size_t i = 0; i < org_n; i++) {
        struct moat_slice key = org_recs[i].value;
        if (moat_slice_starts_with(key, prefix))
            continue; /* the caller's own, listed already */
        struct store_record r;
        enum store_status st = store_get(call->db, call->arena, CLOUDTRAIL_NS_TRAIL, key, &r);
        if (st == STORE_NOT_FOUND)
            continue;
        if (st != STORE_OK || !parse_into(call, &r, &list[used]))
            return moat_internal(call, "cloudtrail: organization trail read failed");
        if (!moat_slice_eq(list[used].indexed_org, org))
            continue;
        list[used++].foreign = true;
    }
    *out = list;
    *count = used;
    return NULL;
}

struct moat_error *cloudtrail_find(struct moat_call *call, struct moat_slice name_or_arn,
                                   const struct moat_error_kind *not_found,
                                   struct cloudtrail_record *out, bool *shadow)
{
    struct moat_error *err = NULL;
    struct moat_slice account = moat_slice_cstr(call->account_id);
    struct moat_slice here = moat_slice_cstr(call->region);
    if (!not_found)
        not_found = &cloudtrail_trail_not_found;
    *shadow = false;
    if (moat_slice_starts_with(name_or_arn, MOAT_LIT("arn:"))) {
        struct moat_slice region, acct, name;
        if (!cloudtrail_parse_trail_arn(name_or_arn, &region, &acct, &name) ||
            cloudtrail_check_name(call, name))
            return moat_fail(call, &cloudtrail_arn_invalid,
                             "%.*s is not a valid trail ARN: the format is "
                             "arn:aws:cloudtrail:region:account-id:trail/trail-name.",
                             MOAT_FMT(moat_slice_sub(name_or_arn, 0, 512)));
        /* Another account's trail is visible only as an organization trail of the
         * caller's organization. */
        bool own = moat_slice_eq(acct, account);
        struct moat_slice org = caller_org(call);
        if ((own || org.len) && load(call, trail_key(call, acct, region, name), out, &err)) {
            bool multi = moat_map_bool(out->doc, "IsMultiRegionTrail", false);
            out->foreign = !own;
            *shadow = !moat_slice_eq(region, here) || !own;
            bool visible = own || moat_slice_eq(out->indexed_org, org);
            if (visible && (moat_slice_eq(region, here) || multi))
                return NULL;
        } else if (err) {
            return err;
        }
    } else {
        err = cloudtrail_check_name(call, name_or_arn);
        if (err)
            return err;
        if (load(call, trail_key(call, account, here, name_or_arn), out, &err))
            return NULL;
        if (err)
            return err;
        /* A multi-region trail of another region is visible here as a shadow. */
        struct cloudtrail_record *all;
        size_t n;
        err = cloudtrail_list_all(call, false, &all, &n);
        if (err)
            return err;
        for (size_t i = 0; i < n; i++) {
            if (moat_slice_eq_cstr(name_or_arn, all[i].name) &&
                moat_map_bool(all[i].doc, "IsMultiRegionTrail", false)) {
                *out = all[i];
                *shadow = true;
                return NULL;
            }
        }
    }
    if (not_found == &cloudtrail_trail_not_found)
        return moat_fail(call, not_found, "Unknown trail: %.*s for the user: %s",
                         MOAT_FMT(moat_slice_sub(name_or_arn, 0, 512)), call->account_id);
    return moat_fail(call, not_found, "Resource not found: %.*s",
                     MOAT_FMT(moat_slice_sub(name_or_arn, 0, 512)));
}

struct moat_error *cloudtrail_save(struct moat_call *call, struct cloudtrail_record *r)
{
    struct moat_buf b;
    moat_buf_init(&b, call->arena, 1024);
    moat_json_write(&b, r->doc);
    if (!r->key.len)
        r->key = trail_key(call, moat_slice_cstr(call->account_id), moat_slice_cstr(r->home_region),
                           moat_slice_cstr(r->name));
    int64_t expect = r->version ? r->version : STORE_MUST_NOT_EXIST;
    enum store_status st =
        store_put(call->db, CLOUDTRAIL_NS_TRAIL, r->key, moat_buf_slice(&b), expect, &r->version);
    if (st == STORE_CONFLICT)
        return moat_fail(call, &cloudtrail_conflict,
                         "Trail %s is being changed by another request; try again.", r->name);
    if (st != STORE_OK)
        return moat_internal(call, "cloudtrail: trail write failed");
    struct moat_slice org = moat_map_bool(r->doc, "IsOrganizationTrail", false)
                                ? moat_map_str(r->doc, "OrganizationId")
                                : MOAT_NULL_SLICE;
    if (moat_slice_eq(org, r->indexed_org))
        return NULL;
    if (r->indexed_org.len) {
        struct moat_slice old = moat_slice_cstr(moat_arena_printf(
            call->arena, "%.*s/%.*s", MOAT_FMT(r->indexed_org), MOAT_FMT(r->key)));
        st = store_delete(call->db, CLOUDTRAIL_NS_ORG_TRAIL, old, STORE_ANY_VERSION);
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return moat_internal(call, "cloudtrail: organization listing delete failed");
    }
    if (org.len) {
        struct moat_slice k = moat_slice_cstr(
            moat_arena_printf(call->arena, "%.*s/%.*s", MOAT_FMT(org), MOAT_FMT(r->key)));
        if (store_put(call->db, CLOUDTRAIL_NS_ORG_TRAIL, k, r->key, STORE_ANY_VERSION, NULL) !=
            STORE_OK)
            return moat_internal(call, "cloudtrail: organization listing write failed");
    }
    r->indexed_org = org;
    return NULL;
}

struct moat_error *cloudtrail_remove(struct moat_call *call, const struct cloudtrail_record *r)
{
    enum store_status st = store_delete(call->db, CLOUDTRAIL_NS_TRAIL, r->key, r->version);
    if (st == STORE_CONFLICT || st == STORE_NOT_FOUND)
        return moat_fail(call, &cloudtrail_conflict,
                         "Trail %s is being changed by another request; try again.", r->arn);
    if (st != STORE_OK)
        return moat_internal(call, "cloudtrail: trail delete failed");
    if (r->indexed_org.len) {
        struct moat_slice k = moat_slice_cstr(moat_arena_printf(
            call->arena, "%.*s/%.*s", MOAT_FMT(r->indexed_org), MOAT_FMT(r->key)));
        st = store_delete(call->db, CLOUDTRAIL_NS_ORG_TRAIL, k, STORE_ANY_VERSION);
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return moat_internal(call, "cloudtrail: organization listing delete failed");
    }
    return NULL;
}

void cloudtrail_trail_view(struct moat_arena *a, const struct cloudtrail_record *r,
                           struct cloudtrail_trail *out)
{
    memset(out, 0, sizeof(*out));
    const struct moat_value *d = r->doc;
    out->account_id = moat_map_str(d, "AccountId");
    out->home_region = moat_map_str(d, "HomeRegion");
    out->organization_id = moat_map_str(d, "OrganizationId");
    out->organization_trail = moat_map_bool(d, "IsOrganizationTrail", false);
    out->multi_region = moat_map_bool(d, "IsMultiRegionTrail", false);
    out->include_global_service_events = moat_map_bool(d, "IncludeGlobalServiceEvents", true);
    out->logging = moat_map_bool(d, "IsLogging", false);
    const struct moat_value *sel = moat_map_get(d, "Selectors");
    if (!sel || cloudtrail_selectors_parse(a, sel, &out->selectors) != NULL)
        cloudtrail_selectors_default(&out->selectors);
}

/* Sets a member of an output struct by its name (the Trail shapes of GetTrail,
 * CreateTrail and UpdateTrail share member names, not positions). */
static void set_named(struct moat_call *call, struct moat_value *out, const char *name,
                      const struct moat_value *v)
{
    unsigned idx;
    if (!v || v->type == MOAT_V_NULL || !moat_shape_member(out->shape, moat_slice_cstr(name), &idx))
        return;
    if (v->type == MOAT_V_STRING && !v->u.s.len)
        return;
    moat_set(out, idx, moat_value_clone(call->arena, v));
}

void cloudtrail_fill_trail(struct moat_call *call, const struct cloudtrail_record *r,
                           struct moat_value *out)
{
    static const char *const members[] = {
        "Name",
        "S3BucketName",
        "S3KeyPrefix",
        "SnsTopicName",
        "SnsTopicARN",
        "IncludeGlobalServiceEvents",
        "IsMultiRegionTrail",
        "HomeRegion",
        "TrailARN",
        "LogFileValidationEnabled",
        "CloudWatchLogsLogGroupArn",
        "CloudWatchLogsRoleArn",
        "KmsKeyId",
        "HasCustomEventSelectors",
        "HasInsightSelectors",
        "IsOrganizationTrail",
    };
    for (size_t i = 0; i < MOAT_COUNT(members); i++)
        set_named(call, out, members[i], moat_map_get(r->doc, members[i]));
}
