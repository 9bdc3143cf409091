/* ssm_versions.c: GetParameterHistory, LabelParameterVersion and
 * UnlabelParameterVersion. Labels are kept on the current record (label -> version);
 * versions live in ssm/history.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html */
#include "services/ssm/ssm.h"

#include "aws/shapes/shapes_ssm.h"
#include "store/store.h"

#include <string.h>

/* Loads the parameter a plain name (or an ARN of this account and Region) names. */
static struct moat_error *load_named(struct moat_call *call, struct moat_slice raw,
                                     struct ssm_param *p)
{
    struct ssm_ref ref;
    bool found = false;
    if (ssm_ref_parse(raw, &ref) && ref.sel == SSM_SEL_NONE) {
        if (ref.problem == SSM_NAME_NOT_QUALIFIED || ref.problem == SSM_NAME_INNER_SPACE)
            return ssm_name_error(call, &ref.name, ref.problem);
        if (ref.problem == SSM_NAME_OK &&
            (!ref.arn || (moat_slice_eq_cstr(ref.arn_region, call->region) &&
                          moat_slice_eq_cstr(ref.arn_account, call->account_id)))) {
            struct moat_error *err = ssm_load(call, ref.name.key, p, &found);
            if (err)
                return err;
        }
    }
    if (!found)
        return moat_fail(call, &ssm_parameter_not_found, "Parameter %.*s not found.",
                         MOAT_FMT(moat_slice_trim(raw)));
    return NULL;
}

static struct moat_error *version_not_found(struct moat_call *call, int64_t version,
                                            struct moat_slice name)
{
    return moat_fail(call, &ssm_parameter_version_not_found,
                     "Systems Manager could not find version %lld of %.*s. Verify the version "
                     "and try again.",
                     (long long)version, MOAT_FMT(name));
}

/* ---- GetParameterHistory --------------------------------------------------------- */

SSM_HANDLER(ssm_get_parameter_history)
{
    struct moat_arena *a = call->arena;
    struct ssm_param cur;
    struct moat_error *err =
        load_named(call, moat_get_str(in, SSM_GET_PARAMETER_HISTORY_REQUEST_NAME), &cur);
    if (err)
        return err;
    bool decrypt = moat_get_bool(in, SSM_GET_PARAMETER_HISTORY_REQUEST_WITH_DECRYPTION, false);
    size_t want = (size_t)moat_get_int(in, SSM_GET_PARAMETER_HISTORY_REQUEST_MAX_RESULTS, 50);
    struct moat_slice prefix = moat_slice_cstr(
        moat_arena_printf(a, "%s/%s/%.*s#", call->account_id, call->region, MOAT_FMT(cur.key)));
    struct moat_slice after = MOAT_NULL_SLICE;
    if (moat_has(in, SSM_GET_PARAMETER_HISTORY_REQUEST_NEXT_TOKEN) &&
        !ssm_token_read(a, moat_get_str(in, SSM_GET_PARAMETER_HISTORY_REQUEST_NEXT_TOKEN), 'h',
                        prefix, &after))
        return moat_fail(call, &ssm_invalid_next_token, "The specified token isn't valid.");
    struct store_record *recs;
    size_t n;
    bool more;
    if (store_scan(call->db, a, SSM_NS_HISTORY, prefix, after, want, &recs, &n, &more) != STORE_OK)
        return moat_internal(call, "ssm: history scan failed");
    const char *arn = ssm_arn(a, call->region, call->account_id, cur.key);
    struct moat_value *list = moat_set_list(a, out, SSM_GET_PARAMETER_HISTORY_RESULT_PARAMETERS);
    for (size_t i = 0; i < n; i++) {
        struct ssm_param v;
        if (!ssm_record_decode(a, recs[i].value, &v))
            return moat_internal(call, "ssm: corrupt history record");
        struct moat_value *st = moat_list_add_struct(a, list);
        moat_set_str(a, st, SSM_PARAMETER_HISTORY_NAME, cur.name);
        moat_set_cstr(a, st, SSM_PARAMETER_HISTORY_TYPE, ssm_type_name(v.type));
        if (v.type == SSM_SECURE_STRING)
            moat_set_str(a, st, SSM_PARAMETER_HISTORY_KEY_ID, v.key_id);
        moat_set_ts(a, st, SSM_PARAMETER_HISTORY_LAST_MODIFIED_DATE, v.modified_ms);
        moat_set_str(a, st, SSM_PARAMETER_HISTORY_LAST_MODIFIED_USER, v.modified_user);
        if (v.has_description)
            moat_set_str(a, st, SSM_PARAMETER_HISTORY_DESCRIPTION, v.description);
        if (v.type == SSM_SECURE_STRING && decrypt) {
            struct moat_slice plain;
            err = ssm_unseal_value(call, arn, &v, &plain);
            if (err)
                return err;
            moat_set_str(a, st, SSM_PARAMETER_HISTORY_VALUE, plain);
        } else {
            moat_set_str(a, st, SSM_PARAMETER_HISTORY_VALUE, v.value);
        }
        if (v.has_allowed_pattern)
            moat_set_str(a, st, SSM_PARAMETER_HISTORY_ALLOWED_PATTERN, v.allowed_pattern);
        moat_set_int(a, st, SSM_PARAMETER_HISTORY_VERSION, v.version);
        struct moat_value *labels = moat_set_list(a, st, SSM_PARAMETER_HISTORY_LABELS);
        for (size_t k = 0; k < cur.label_count; k++)
            if (cur.label_versions[k] == v.version)
                moat_list_add_str(a, labels, cur.label_names[k]);
        moat_set_cstr(a, st, SSM_PARAMETER_HISTORY_TIER, ssm_tier_name(v.tier));
        ssm_fill_policies(call, st, SSM_PARAMETER_HISTORY_POLICIES, &v);
        moat_set_str(a, st, SSM_PARAMETER_HISTORY_DATA_TYPE, v.data_type);
    }
    if (more && n)
        moat_set_cstr(a, out, SSM_GET_PARAMETER_HISTORY_RESULT_NEXT_TOKEN,
                      ssm_token_make(a, 'h', recs[n - 1].key));
    return NULL;
}

/* ---- labels ------------------------------------------------------------------------ */

static bool listed(const struct moat_value *labels, uint32_t upto, struct moat_slice l)
{
    for (uint32_t k = 0; k < upto; k++)
        if (moat_slice_eq(labels->u.items[k]->u.s, l))
            return true;
    return false;
}

static bool version_kept(const struct ssm_param *p, int64_t v)
{
    return v >= p->oldest_version && v <= p->version;
}

SSM_HANDLER(ssm_label_parameter_version)
{
    struct moat_arena *a = call->arena;
    struct ssm_param p;
    struct moat_error *err =
        load_named(call, moat_get_str(in, SSM_LABEL_PARAMETER_VERSION_REQUEST_NAME), &p);
    if (err)
        return err;
    int64_t version =
        moat_get_int(in, SSM_LABEL_PARAMETER_VERSION_REQUEST_PARAMETER_VERSION, p.version);
    if (!version_kept(&p, version))
        return version_not_found(call, version, p.name);
    const struct moat_value *labels = moat_get(in, SSM_LABEL_PARAMETER_VERSION_REQUEST_LABELS);
    struct moat_value *invalid =
        moat_set_list(a, out, SSM_LABEL_PARAMETER_VERSION_RESULT_INVALID_LABELS);
    /* The new label map: every old label, moved or added as the request says. */
    size_t cap = p.label_count + (labels ? labels->count : 0);
    struct moat_slice *names = moat_arena_alloc(a, (cap ? cap : 1) * sizeof(*names));
    int64_t *versions = moat_arena_alloc(a, (cap ? cap : 1) * sizeof(*versions));
    size_t count = 0;
    for (size_t i = 0; i < p.label_count; i++) {
        names[count] = p.label_names[i];
        versions[count++] = p.label_versions[i];
    }
    for (uint32_t i = 0; labels && i < labels->count; i++) {
        struct moat_slice l = labels->u.items[i]->u.s;
        if (listed(labels, i, l))
            continue;
        if (!ssm_label_valid(l)) {
            moat_list_add_str(a, invalid, l);
            continue;
        }
        size_t k = 0;
        while (k < count && !moat_slice_eq(names[k], l))
            k++;
        if (k == count) {
            names[count] = l;
            count++;
        }
        versions[k] = version; /* a label names one version: attaching it moves it */
    }
    size_t on_version = 0;
    for (size_t k = 0; k < count; k++)
        on_version += versions[k] == version;
    if (on_version > SSM_LABELS_PER_VERSION)
        return moat_fail(call, &ssm_label_limit_exceeded,
                         "A parameter version can have maximum %d labels. Move one or more labels "
                         "to another version and try again.",
                         SSM_LABELS_PER_VERSION);
    p.label_names = names;
    p.label_versions = versions;
    p.label_count = count;
    err = ssm_store_current(call, &p, false);
    if (!err)
        err = ssm_event_change(call, call->account_id, call->region, &p, "LabelParameterVersion");
    if (err)
        return err;
    moat_set_int(a, out, SSM_LABEL_PARAMETER_VERSION_RESULT_PARAMETER_VERSION, version);
    return NULL;
}

SSM_HANDLER(ssm_unlabel_parameter_version)
{
    struct moat_arena *a = call->arena;
    struct ssm_param p;
    struct moat_error *err =
        load_named(call, moat_get_str(in, SSM_UNLABEL_PARAMETER_VERSION_REQUEST_NAME), &p);
    if (err)
        return err;
    int64_t version = moat_get_int(in, SSM_UNLABEL_PARAMETER_VERSION_REQUEST_PARAMETER_VERSION, 0);
    if (!version_kept(&p, version))
        return version_not_found(call, version, p.name);
    const struct moat_value *labels = moat_get(in, SSM_UNLABEL_PARAMETER_VERSION_REQUEST_LABELS);
    struct moat_value *removed =
        moat_set_list(a, out, SSM_UNLABEL_PARAMETER_VERSION_RESULT_REMOVED_LABELS);
    struct moat_value *invalid =
        moat_set_list(a, out, SSM_UNLABEL_PARAMETER_VERSION_RESULT_INVALID_LABELS);
    struct moat_slice *names =
        moat_arena_alloc(a, (p.label_count ? p.label_count : 1) * sizeof(*names));
    int64_t *versions =
        moat_arena_alloc(a, (p.label_count ? p.label_count : 1) * sizeof(*versions));
    size_t count = 0;
    for (size_t i = 0; i < p.label_count; i++) {
        bool drop = p.label_versions[i] == version && labels &&
                    listed(labels, labels->count, p.label_names[i]);
        if (drop)
            continue;
        names[count] = p.label_names[i];
        versions[count++] = p.label_versions[i];
    }
    for (uint32_t i = 0; labels && i < labels->count; i++) {
        struct moat_slice l = labels->u.items[i]->u.s;
        if (listed(labels, i, l))
            continue;
        bool was = false;
        for (size_t k = 0; k < p.label_count; k++)
            if (p.label_versions[k] == version && moat_slice_eq(p.label_names[k], l))
                was = true;
        moat_list_add_str(a, was ? removed : invalid, l);
    }
    if (count != p.label_count) {
        p.label_names = names;
        p.label_versions = versions;
        p.label_count = count;
        err = ssm_store_current(call, &p, false);
        if (err)
            return err;
    }
    return NULL;
}
