/* ssm_tags.c: AddTagsToResource, RemoveTagsFromResource and ListTagsForResource for
 * parameters (ResourceType Parameter; other Systems Manager resources are not offered).
 * Tags live on the parameter's current record; tagging makes no new version.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AddTagsToResource.html */
#include "services/ssm/ssm.h"

#include "aws/shapes/shapes_ssm.h"

/* Loads the parameter a tagging request names. */
static struct moat_error *load_resource(struct moat_call *call, struct moat_slice type,
                                        struct moat_slice id, struct ssm_param *p)
{
    if (!moat_slice_eq_cstr(type, "Parameter"))
        return moat_fail(call, &ssm_invalid_resource_type,
                         "The resource type isn't valid: this endpoint tags only resources of "
                         "type Parameter, not %.*s.",
                         MOAT_FMT(type));
    struct ssm_ref ref;
    bool found = false;
    if (ssm_ref_parse(id, &ref) && ref.sel == SSM_SEL_NONE && ref.problem == SSM_NAME_OK &&
        (!ref.arn || (moat_slice_eq_cstr(ref.arn_region, call->region) &&
                      moat_slice_eq_cstr(ref.arn_account, call->account_id)))) {
        struct moat_error *err = ssm_load(call, ref.name.key, p, &found);
        if (err)
            return err;
    }
    if (!found)
        return moat_fail(call, &ssm_invalid_resource_id,
                         "The resource ID isn't valid. Verify that you entered the correct ID and "
                         "try again: no parameter %.*s.",
                         MOAT_FMT(moat_slice_trim(id)));
    return NULL;
}

SSM_HANDLER(ssm_add_tags_to_resource)
{
    struct moat_arena *a = call->arena;
    struct ssm_param p;
    struct moat_error *err =
        load_resource(call, moat_get_str(in, SSM_ADD_TAGS_TO_RESOURCE_REQUEST_RESOURCE_TYPE),
                      moat_get_str(in, SSM_ADD_TAGS_TO_RESOURCE_REQUEST_RESOURCE_ID), &p);
    if (err)
        return err;
    const struct moat_value *tags = moat_get(in, SSM_ADD_TAGS_TO_RESOURCE_REQUEST_TAGS);
    size_t cap = p.tag_count + (tags ? tags->count : 0);
    struct ssm_tag *merged = moat_arena_alloc(a, (cap ? cap : 1) * sizeof(*merged));
    size_t count = 0;
    for (size_t i = 0; i < p.tag_count; i++)
        merged[count++] = p.tags[i];
    for (uint32_t i = 0; tags && i < tags->count; i++) {
        struct moat_slice k = moat_get_str(tags->u.items[i], SSM_TAG_KEY);
        struct moat_slice v = moat_get_str(tags->u.items[i], SSM_TAG_VALUE);
        if (moat_slice_starts_with(k, MOAT_LIT("aws:")))
            return moat_fail(call, &ssm_validation,
                             "Tag keys beginning with \"aws:\" are reserved for AWS use: %.*s",
                             MOAT_FMT(k));
        size_t j = 0;
        while (j < count && !moat_slice_eq(merged[j].key, k))
            j++;
        if (j == count)
            merged[count++].key = k;
        merged[j].value = v; /* an existing key takes the new value */
    }
    if (count > SSM_MAX_TAGS)
        return moat_fail(call, &ssm_too_many_tags,
                         "A parameter can have at most %d tags; this request would leave %zu.",
                         SSM_MAX_TAGS, count);
    p.tags = merged;
    p.tag_count = count;
    MOAT_UNUSED(out);
    return ssm_store_current(call, &p, false);
}

SSM_HANDLER(ssm_remove_tags_from_resource)
{
    struct moat_arena *a = call->arena;
    struct ssm_param p;
    struct moat_error *err =
        load_resource(call, moat_get_str(in, SSM_REMOVE_TAGS_FROM_RESOURCE_REQUEST_RESOURCE_TYPE),
                      moat_get_str(in, SSM_REMOVE_TAGS_FROM_RESOURCE_REQUEST_RESOURCE_ID), &p);
    if (err)
        return err;
    const struct moat_value *keys = moat_get(in, SSM_REMOVE_TAGS_FROM_RESOURCE_REQUEST_TAG_KEYS);
    struct ssm_tag *kept = moat_arena_alloc(a, (p.tag_count ? p.tag_count : 1) * sizeof(*kept));
    size_t count = 0;
    for (size_t i = 0; i < p.tag_count; i++) {
        bool drop = false;
        for (uint32_t k = 0; keys && k < keys->count && !drop; k++)
            drop = moat_slice_eq(p.tags[i].key, keys->u.items[k]->u.s);
        if (!drop)
            kept[count++] = p.tags[i];
    }
    MOAT_UNUSED(out);
    if (count == p.tag_count)
        return NULL;
    p.tags = kept;
    p.tag_count = count;
    return ssm_store_current(call, &p, false);
}

SSM_HANDLER(ssm_list_tags_for_resource)
{
    struct moat_arena *a = call->arena;
    struct ssm_param p;
    struct moat_error *err =
        load_resource(call, moat_get_str(in, SSM_LIST_TAGS_FOR_RESOURCE_REQUEST_RESOURCE_TYPE),
                      moat_get_str(in, SSM_LIST_TAGS_FOR_RESOURCE_REQUEST_RESOURCE_ID), &p);
    if (err)
        return err;
    struct moat_value *list = moat_set_list(a, out, SSM_LIST_TAGS_FOR_RESOURCE_RESULT_TAG_LIST);
    for (size_t i = 0; i < p.tag_count; i++) {
        struct moat_value *t = moat_list_add_struct(a, list);
        moat_set_str(a, t, SSM_TAG_KEY, p.tags[i].key);
        moat_set_str(a, t, SSM_TAG_VALUE, p.tags[i].value);
    }
    return NULL;
}
