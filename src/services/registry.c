/* registry.c: the only list of services, one line each, and the operation
 * index built from their tables at start-up. */
#include "services/registry.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>

extern const struct moat_service sts_service;
extern const struct moat_service iam_service;
extern const struct moat_service organizations_service;
extern const struct moat_service kms_service;
extern const struct moat_service secretsmanager_service;
extern const struct moat_service ssm_service;
extern const struct moat_service cloudtrail_service;

static const struct moat_service *const services[] = {
    &sts_service,
    &iam_service,
    &organizations_service,
    &kms_service,
    &secretsmanager_service,
    &ssm_service,
    &cloudtrail_service,
};

#define INDEX_SLOTS 4096

struct index_entry {
    const struct moat_service *svc;
    const struct moat_operation *op;
    const char *name;
};

static struct index_entry index_table[INDEX_SLOTS];

static uint64_t hash_name(const struct moat_service *svc, struct moat_slice name)
{
    uint64_t h = 1469598103934665603ull ^ (uintptr_t)svc;
    for (size_t i = 0; i < name.len; i++)
        h = (h ^ name.ptr[i]) * 1099511628211ull;
    return h;
}

bool registry_init(void)
{
    memset(index_table, 0, sizeof(index_table));
    for (size_t s = 0; s < MOAT_COUNT(services); s++) {
        const struct moat_service *svc = services[s];
        if (!svc->name || !svc->event_source || !svc->shapes || !svc->validation_error ||
            !svc->access_denied) {
            moat_log_error("service %zu (%s) is missing a name, shapes or error kinds", s,
                           svc->name ? svc->name : "?");
            return false;
        }
        for (size_t i = 0; i < svc->operation_count; i++) {
            const struct moat_operation *op = &svc->operations[i];
            if (op->shape >= svc->shapes->op_count || !op->handler || !op->action) {
                moat_log_error("%s: operation row %zu lacks a shape, handler or action", svc->name,
                               i);
                return false;
            }
            const char *name = svc->shapes->ops[op->shape].name;
            struct moat_slice n = moat_slice_cstr(name);
            uint64_t h = hash_name(svc, n);
            for (size_t k = 0;; k++) {
                struct index_entry *e = &index_table[(h + k) % INDEX_SLOTS];
                if (!e->svc) {
                    e->svc = svc;
                    e->op = op;
                    e->name = name;
                    break;
                }
                if (e->svc == svc && strcmp(e->name, name) == 0) {
                    moat_log_error("%s: operation %s is listed twice", svc->name, name);
                    return false;
                }
                if (k == INDEX_SLOTS) {
                    moat_log_error("operation index is full");
                    return false;
                }
            }
        }
    }
    return true;
}

const struct moat_operation *registry_find_op(const struct moat_service *svc,
                                              struct moat_slice name)
{
    uint64_t h = hash_name(svc, name);
    for (size_t k = 0; k < INDEX_SLOTS; k++) {
        const struct index_entry *e = &index_table[(h + k) % INDEX_SLOTS];
        if (!e->svc)
            return NULL;
        if (e->svc == svc && moat_slice_eq_cstr(name, e->name))
            return e->op;
    }
    return NULL;
}

const struct moat_service *registry_by_target_prefix(struct moat_slice prefix)
{
    for (size_t s = 0; s < MOAT_COUNT(services); s++) {
        const char *tp = services[s]->shapes->target_prefix;
        if (tp && moat_slice_eq_cstr(prefix, tp))
            return services[s];
    }
    return NULL;
}

const struct moat_service *registry_by_signing_name(struct moat_slice name)
{
    for (size_t s = 0; s < MOAT_COUNT(services); s++)
        if (moat_slice_eq_cstr(name, services[s]->shapes->signing_name))
            return services[s];
    return NULL;
}

const struct moat_service *registry_by_query_version(struct moat_slice version)
{
    for (size_t s = 0; s < MOAT_COUNT(services); s++) {
        const struct moat_service_shapes *sh = services[s]->shapes;
        if (sh->protocol == MOAT_PROTO_QUERY && moat_slice_eq_cstr(version, sh->api_version))
            return services[s];
    }
    return NULL;
}

size_t registry_count(void)
{
    return MOAT_COUNT(services);
}

const struct moat_service *registry_at(size_t i)
{
    return i < MOAT_COUNT(services) ? services[i] : NULL;
}
