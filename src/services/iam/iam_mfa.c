/* iam_mfa.c: virtual MFA devices: a TOTP seed sealed under the root key, enabled for a
 * user with two consecutive codes, and the code check STS uses (GetSessionToken,
 * AssumeRole with SerialNumber and TokenCode).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html */
#include "aws/shapes/shapes_iam.h"
#include "core/encoding.h"
#include "crypto/rootkey.h"
#include "server/server.h"
#include "services/iam/iam.h"
#include "services/iam/iam_handlers.h"

#include <openssl/crypto.h>
#include <string.h>

#define MFA_SEED_BYTES 40 /* 64 base32 characters, as IAM's seeds */
#define MFA_MAX_PER_USER 8
#define MFA_STEP_MS 30000

struct mfa_device {
    struct moat_value *rec;
    int64_t version;
    struct moat_slice key;
};

/* arn:aws:iam::<account>:mfa/<path><name>: the name is the last segment. */
static struct moat_slice serial_name(struct moat_slice serial)
{
    for (size_t i = serial.len; i > 0; i--)
        if (serial.ptr[i - 1] == '/')
            return moat_slice_sub(serial, i, serial.len);
    return serial;
}

static struct moat_error *mfa_find(struct moat_call *call, struct moat_slice account,
                                   struct moat_slice serial, struct mfa_device *d, bool *found)
{
    d->key = iam_name_key(call->arena, account, serial_name(serial));
    struct moat_error *err = iam_record_get(call, IAM_NS_MFA, d->key, &d->rec, &d->version, found);
    if (!err && *found && !moat_slice_eq(moat_map_str(d->rec, "SerialNumber"), serial))
        *found = false;
    return err;
}

static struct moat_error *mfa_load(struct moat_call *call, struct moat_slice serial,
                                   struct mfa_device *d)
{
    bool found;
    struct moat_error *err = mfa_find(call, iam_account(call), serial, d, &found);
    if (!err && !found)
        return moat_fail(call, &iam_no_such_entity,
                         "VirtualMFADevice with serial number %.*s doesn't exist.",
                         MOAT_FMT(serial));
    return err;
}

static struct moat_slice seal_aad(struct moat_arena *a, struct moat_slice serial)
{
    return moat_slice_cstr(moat_arena_printf(a, "%s/%.*s", IAM_NS_MFA, MOAT_FMT(serial)));
}

/* The device's seed, unsealed into the arena (wiped with it). */
static bool mfa_seed(struct moat_call *call, const struct mfa_device *d, struct moat_slice *seed)
{
    struct moat_slice sealed;
    return moat_base64_decode(call->arena, moat_map_str(d->rec, "Seed"), &sealed) &&
           rootkey_unseal(call->server->rootkey, call->arena,
                          seal_aad(call->arena, moat_map_str(d->rec, "SerialNumber")), sealed,
                          seed);
}

/* Finds step s in [from, to] with code(s) = c1 and code(s + 1) = c2. */
static bool consecutive(struct moat_slice seed, int64_t from, int64_t to, uint32_t c1, uint32_t c2,
                        int64_t *found)
{
    for (int64_t s = to; s >= from; s--) {
        if (iam_totp(seed, s) == c1 && iam_totp(seed, s + 1) == c2) {
            *found = s + 1;
            return true;
        }
    }
    return false;
}

/* EnableMFADevice and ResyncMFADevice: two consecutive codes near the current time. */
static struct moat_error *check_pair(struct moat_call *call, const struct mfa_device *d,
                                     struct moat_slice code1, struct moat_slice code2,
                                     int64_t window, int64_t *step)
{
    uint32_t c1, c2;
    struct moat_slice seed;
    if (!mfa_seed(call, d, &seed))
        return moat_internal(call, "MFA seed does not unseal");
    int64_t now = call->now_ms / MFA_STEP_MS;
    if (!iam_totp_parse(code1, &c1) || !iam_totp_parse(code2, &c2) ||
        !consecutive(seed, now - window, now + 1, c1, c2, step))
        return moat_fail(call, &iam_invalid_authentication_code,
                         "Authentication code for device is not valid.");
    return NULL;
}

struct moat_error *iam_mfa_check(struct moat_call *call, struct moat_slice account,
                                 struct moat_slice user_name, struct moat_slice serial,
                                 struct moat_slice code, int64_t *step, bool *ok)
{
    *ok = false;
    struct mfa_device d;
    bool found;
    struct moat_error *err = mfa_find(call, account, serial, &d, &found);
    if (err || !found)
        return err;
    if (!moat_map_int(d.rec, "EnableDate", 0) ||
        !moat_slice_eq_nocase(moat_map_str(d.rec, "UserName"), user_name))
        return NULL;
    uint32_t c;
    struct moat_slice seed;
    if (!iam_totp_parse(code, &c))
        return NULL;
    if (!mfa_seed(call, &d, &seed))
        return moat_internal(call, "MFA seed does not unseal");
    int64_t now = call->now_ms / MFA_STEP_MS, last = moat_map_int(d.rec, "LastStep", 0);
    for (int64_t s = now - 1; s <= now + 1; s++) {
        if (s > last && iam_totp(seed, s) == c) {
            *step = s;
            *ok = true;
            return NULL;
        }
    }
    return NULL;
}

struct moat_error *iam_mfa_mark_used(struct moat_call *call, struct moat_slice account,
                                     struct moat_slice serial, int64_t step)
{
    struct mfa_device d;
    bool found;
    struct moat_error *err = mfa_find(call, account, serial, &d, &found);
    if (err || !found)
        return err;
    if (moat_map_int(d.rec, "LastStep", 0) >= step)
        return NULL;
    moat_map_set_int(call->arena, d.rec, "LastStep", step);
    return iam_record_put(call, IAM_NS_MFA, d.key, d.rec, d.version);
}

/* ---- operations ----------------------------------------------------------------------- */

struct moat_error *iam_create_virtual_mfa_device(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct moat_slice name =
        moat_get_str(in, IAM_CREATE_VIRTUAL_MFA_DEVICE_REQUEST_VIRTUAL_MFA_DEVICE_NAME);
    struct moat_slice path = moat_get_str(in, IAM_CREATE_VIRTUAL_MFA_DEVICE_REQUEST_PATH);
    struct moat_slice serial = iam_arn(a, iam_account(call), "mfa", path, name);
    struct mfa_device d;
    bool found;
    d.key = iam_name_key(a, iam_account(call), name);
    struct moat_error *err = iam_record_get(call, IAM_NS_MFA, d.key, &d.rec, &d.version, &found);
    if (err)
        return err;
    if (found)
        return moat_fail(call, &iam_entity_already_exists,
                         "MFADevice entity at the same path and name already exists.");
    uint8_t *seed = moat_arena_alloc(a, MFA_SEED_BYTES);
    moat_arena_wipe_on_free(a, seed, MFA_SEED_BYTES);
    crypto_random(seed, MFA_SEED_BYTES);
    struct moat_buf b32;
    moat_buf_init(&b32, a, 80);
    iam_base32_encode(&b32, moat_slice(seed, MFA_SEED_BYTES));
    moat_arena_wipe_on_free(a, b32.ptr, b32.cap);
    struct moat_slice sealed = rootkey_seal(call->server->rootkey, a, seal_aad(a, serial),
                                            moat_slice(seed, MFA_SEED_BYTES));
    struct moat_buf enc;
    moat_buf_init(&enc, a, sealed.len * 2);
    moat_base64_encode(&enc, sealed);
    d.rec = moat_value_map(a);
    moat_map_set_str(a, d.rec, "SerialNumber", serial);
    moat_map_set_str(a, d.rec, "Name", name);
    moat_map_set_str(a, d.rec, "Path", path.len ? path : MOAT_LIT("/"));
    moat_map_set_str(a, d.rec, "Seed", moat_buf_slice(&enc));
    moat_map_set_int(a, d.rec, "CreateDate", call->now_ms);
    err = iam_tags_apply(call, d.rec, moat_get(in, IAM_CREATE_VIRTUAL_MFA_DEVICE_REQUEST_TAGS),
                         "TagsPerMFADevice");
    if (!err)
        err = iam_record_put(call, IAM_NS_MFA, d.key, d.rec, STORE_MUST_NOT_EXIST);
    if (err)
        return err;
    struct moat_value *o =
        moat_set_struct(a, out, IAM_CREATE_VIRTUAL_MFA_DEVICE_RESPONSE_VIRTUAL_MFA_DEVICE);
    moat_set_str(a, o, IAM_VIRTUAL_MFA_DEVICE_SERIAL_NUMBER, serial);
    moat_set_blob(a, o, IAM_VIRTUAL_MFA_DEVICE_BASE32_STRING_SEED, moat_buf_slice(&b32));
    /* "otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$Base32String", the
     * account id standing for the account name (API reference, VirtualMFADevice). */
    struct moat_slice uri =
        moat_slice_cstr(moat_arena_printf(a, "otpauth://totp/%.*s@%s?secret=%.*s", MOAT_FMT(name),
                                          call->account_id, MOAT_FMT(moat_buf_slice(&b32))));
    moat_arena_wipe_on_free(a, uri.ptr, uri.len);
    struct moat_slice png;
    if (!iam_qr_png(a, uri, &png))
        return moat_internal(call, "QR code does not fit");
    moat_set_blob(a, o, IAM_VIRTUAL_MFA_DEVICE_QR_CODE_PNG, png);
    iam_tags_output(call, o, IAM_VIRTUAL_MFA_DEVICE_TAGS, d.rec);
    return NULL;
}

struct moat_error *iam_enable_mfa_device(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out)
{
    iam_begin_change(call);
    struct moat_arena *a = call->arena;
    struct iam_entity u;
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_USER, iam_account(call),
                        moat_get_str(in, IAM_ENABLE_MFA_DEVICE_REQUEST_USER_NAME), &u);
    if (err)
        return err;
    struct moat_slice serial = moat_get_str(in, IAM_ENABLE_MFA_DEVICE_REQUEST_SERIAL_NUMBER);
    struct mfa_device d;
    if ((err = mfa_load(call, serial, &d)))
        return err;
    if (moat_map_int(d.rec, "EnableDate", 0))
        return moat_fail(call, &iam_entity_already_exists, "MFA Device is already in use.");
    struct moat_value *devices = iam_rec_list(a, u.rec, "MFADevices");
    if (devices->count >= MFA_MAX_PER_USER)
        return moat_fail(call, &iam_limit_exceeded, "Cannot exceed quota for MFADevicesPerUser: %d",
                         MFA_MAX_PER_USER);
    int64_t step;
    if ((err = check_pair(
             call, &d, moat_get_str(in, IAM_ENABLE_MFA_DEVICE_REQUEST_AUTHENTICATION_CODE1),
             moat_get_str(in, IAM_ENABLE_MFA_DEVICE_REQUEST_AUTHENTICATION_CODE2), 10, &step)))
        return err;
    moat_map_set_int(a, d.rec, "EnableDate", call->now_ms);
    moat_map_set_str(a, d.rec, "UserName", u.name);
    moat_map_set_int(a, d.rec, "LastStep", step);
    iam_list_add(a, devices, moat_map_str(d.rec, "Name"));
    if ((err = iam_record_put(call, IAM_NS_MFA, d.key, d.rec, d.version)))
        return err;
    return iam_entity_save(call, &u);
}

/* Loads a device and the user it is enabled for (NoSuchEntity otherwise). */
static struct moat_error *assigned(struct moat_call *call, struct moat_slice user_name,
                                   struct moat_slice serial, struct iam_entity *u,
                                   struct mfa_device *d)
{
    struct moat_error *err =
        iam_entity_load(call, IAM_ENTITY_USER, iam_account(call), user_name, u);
    if (!err)
        err = mfa_load(call, serial, d);
    if (err)
        return err;
    if (!moat_map_int(d->rec, "EnableDate", 0) ||
        !moat_slice_eq_nocase(moat_map_str(d->rec, "UserName"), u->name))
        return moat_fail(call, &iam_no_such_entity,
                         "MFA Device with serial number %.*s is not enabled for user %.*s.",
                         MOAT_FMT(serial), MOAT_FMT(u->name));
    return NULL;
}

struct moat_error *iam_deactivate_mfa_device(struct moat_call *call, const struct moat_value *in,
                                             struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_entity u;
    struct mfa_device d;
    struct moat_slice name;
    bool root;
    struct moat_error *err = iam_caller_user_name(
        call, moat_get_str(in, IAM_DEACTIVATE_MFA_DEVICE_REQUEST_USER_NAME), &name, &root);
    if (!err && root)
        err = moat_fail(call, &iam_validation_error,
                        "Must specify userName when calling with non-User credentials");
    if (!err)
        err = assigned(call, name,
                       moat_get_str(in, IAM_DEACTIVATE_MFA_DEVICE_REQUEST_SERIAL_NUMBER), &u, &d);
    if (err)
        return err;
    moat_map_remove(d.rec, MOAT_LIT("EnableDate"));
    moat_map_remove(d.rec, MOAT_LIT("UserName"));
    iam_list_remove(moat_map_get(u.rec, "MFADevices"), moat_map_str(d.rec, "Name"), true);
    if ((err = iam_record_put(call, IAM_NS_MFA, d.key, d.rec, d.version)))
        return err;
    return iam_entity_save(call, &u);
}

struct moat_error *iam_resync_mfa_device(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out)
{
    iam_begin_change(call);
    struct iam_entity u;
    struct mfa_device d;
    struct moat_error *err =
        assigned(call, moat_get_str(in, IAM_RESYNC_MFA_DEVICE_REQUEST_USER_NAME),
                 moat_get_str(in, IAM_RESYNC_MFA_DEVICE_REQUEST_SERIAL_NUMBER), &u, &d);
    if (err)
        return err;
    int64_t step;
    /* A device whose clock drifted: look further back than EnableMFADevice does. */
    if ((err = check_pair(
             call, &d, moat_get_str(in, IAM_RESYNC_MFA_DEVICE_REQUEST_AUTHENTICATION_CODE1),
             moat_get_str(in, IAM_RESYNC_MFA_DEVICE_REQUEST_AUTHENTICATION_CODE2), 120, &step)))
        return err;
    moat_map_set_int(call->arena, d.rec, "LastStep", step);
    return iam_record_put(call, IAM_NS_MFA, d.key, d.rec, d.version);
}

struct moat_error *iam_delete_virtual_mfa_device(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out)
{
    iam_begin_change(call);
    struct mfa_device d;
    struct moat_error *err =
        mfa_load(call, moat_get_str(in, IAM_DELETE_VIRTUAL_MFA_DEVICE_REQUEST_SERIAL_NUMBER), &d);
    if (err)
        return err;
    if (moat_map_int(d.rec, "EnableDate", 0))
        return moat_fail(call, &iam_delete_conflict, "MFA Device is still in use.");
    return iam_record_delete(call, IAM_NS_MFA, d.key);
}

static void fill_mfa(struct moat_call *call, struct moat_value *o, const struct moat_value *rec)
{
    moat_set_str(call->arena, o, IAM_MFA_DEVICE_USER_NAME, moat_map_str(rec, "UserName"));
    moat_set_str(call->arena, o, IAM_MFA_DEVICE_SERIAL_NUMBER, moat_map_str(rec, "SerialNumber"));
    moat_set_ts(call->arena, o, IAM_MFA_DEVICE_ENABLE_DATE, moat_map_int(rec, "EnableDate", 0));
}

struct moat_error *iam_list_mfa_devices(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out)
{
    struct moat_slice name;
    bool root;
    struct moat_error *err = iam_caller_user_name(
        call, moat_get_str(in, IAM_LIST_MFA_DEVICES_REQUEST_USER_NAME), &name, &root);
    if (err)
        return err;
    struct moat_value *list =
        moat_set_list(call->arena, out, IAM_LIST_MFA_DEVICES_RESPONSE_MFA_DEVICES);
    moat_set_bool(call->arena, out, IAM_LIST_MFA_DEVICES_RESPONSE_IS_TRUNCATED, false);
    if (root)
        return NULL; /* the root user's MFA is managed in the console, not by IAM */
    struct iam_entity u;
    if ((err = iam_entity_load(call, IAM_ENTITY_USER, iam_account(call), name, &u)))
        return err;
    struct moat_value *devices = moat_map_get(u.rec, "MFADevices");
    for (uint32_t i = 0; devices && devices->type == MOAT_V_LIST && i < devices->count; i++) {
        struct moat_value *rec;
        bool found;
        if ((err = iam_record_get(
                 call, IAM_NS_MFA,
                 iam_name_key(call->arena, iam_account(call), devices->u.items[i]->u.s), &rec, NULL,
                 &found)))
            return err;
        if (found)
            fill_mfa(call, moat_list_add_struct(call->arena, list), rec);
    }
    return NULL;
}

struct list_virtual {
    struct moat_value *list;
    struct moat_slice status;
};

static bool list_virtual_fn(struct moat_call *call, const struct store_record *r,
                            struct moat_value *rec, void *arg, bool add)
{
    struct list_virtual *lv = arg;
    bool enabled = moat_map_int(rec, "EnableDate", 0) != 0;
    if ((moat_slice_eq_cstr(lv->status, "Assigned") && !enabled) ||
        (moat_slice_eq_cstr(lv->status, "Unassigned") && enabled))
        return false;
    if (!add)
        return true;
    struct moat_arena *a = call->arena;
    struct moat_value *o = moat_list_add_struct(a, lv->list);
    moat_set_str(a, o, IAM_VIRTUAL_MFA_DEVICE_SERIAL_NUMBER, moat_map_str(rec, "SerialNumber"));
    if (enabled) {
        moat_set_ts(a, o, IAM_VIRTUAL_MFA_DEVICE_ENABLE_DATE, moat_map_int(rec, "EnableDate", 0));
        struct iam_entity u;
        bool found;
        if (!iam_entity_find(call, IAM_ENTITY_USER, iam_account(call),
                             moat_map_str(rec, "UserName"), &u, &found) &&
            found)
            iam_fill_user(call, moat_set_struct(a, o, IAM_VIRTUAL_MFA_DEVICE_USER), u.rec, false);
    }
    iam_tags_output(call, o, IAM_VIRTUAL_MFA_DEVICE_TAGS, rec);
    return true;
}

struct moat_error *iam_list_virtual_mfa_devices(struct moat_call *call, const struct moat_value *in,
                                                struct moat_value *out)
{
    struct iam_page page;
    struct moat_error *err = iam_page_begin(call, in, IAM_LIST_VIRTUAL_MFA_DEVICES_REQUEST_MARKER,
                                            IAM_LIST_VIRTUAL_MFA_DEVICES_REQUEST_MAX_ITEMS, &page);
    if (err)
        return err;
    struct list_virtual lv = {
        moat_set_list(call->arena, out, IAM_LIST_VIRTUAL_MFA_DEVICES_RESPONSE_VIRTUAL_MFA_DEVICES),
        moat_get_str(in, IAM_LIST_VIRTUAL_MFA_DEVICES_REQUEST_ASSIGNMENT_STATUS),
    };
    bool truncated;
    struct moat_slice last;
    struct moat_slice prefix =
        moat_slice_cstr(moat_arena_printf(call->arena, "%s/", call->account_id));
    if ((err = iam_scan(call, IAM_NS_MFA, prefix, &page, list_virtual_fn, &lv, &truncated, &last)))
        return err;
    iam_page_end(call, out, IAM_LIST_VIRTUAL_MFA_DEVICES_RESPONSE_IS_TRUNCATED,
                 IAM_LIST_VIRTUAL_MFA_DEVICES_RESPONSE_MARKER, truncated, last);
    return NULL;
}

struct moat_error *iam_get_mfa_device(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out)
{
    struct moat_slice serial = moat_get_str(in, IAM_GET_MFA_DEVICE_REQUEST_SERIAL_NUMBER);
    struct mfa_device d;
    struct moat_error *err = mfa_load(call, serial, &d);
    if (err)
        return err;
    struct moat_slice user = moat_get_str(in, IAM_GET_MFA_DEVICE_REQUEST_USER_NAME);
    if (!moat_map_int(d.rec, "EnableDate", 0) ||
        (user.len && !moat_slice_eq_nocase(user, moat_map_str(d.rec, "UserName"))))
        return moat_fail(call, &iam_no_such_entity,
                         "MFA Device with serial number %.*s is not enabled%s%.*s.",
                         MOAT_FMT(serial), user.len ? " for user " : "", MOAT_FMT(user));
    moat_set_str(call->arena, out, IAM_GET_MFA_DEVICE_RESPONSE_USER_NAME,
                 moat_map_str(d.rec, "UserName"));
    moat_set_str(call->arena, out, IAM_GET_MFA_DEVICE_RESPONSE_SERIAL_NUMBER, serial);
    moat_set_ts(call->arena, out, IAM_GET_MFA_DEVICE_RESPONSE_ENABLE_DATE,
                moat_map_int(d.rec, "EnableDate", 0));
    return NULL;
}
