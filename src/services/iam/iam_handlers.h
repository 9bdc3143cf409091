/* iam_handlers.h: the handlers of IAM's operation table (iam_service.c), defined in
 * iam_<area>.c. */
#ifndef MOAT_IAM_HANDLERS_H
#define MOAT_IAM_HANDLERS_H

#include "services/service.h"

struct moat_error *iam_create_user(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out);
struct moat_error *iam_get_user(struct moat_call *call, const struct moat_value *in,
                                struct moat_value *out);
struct moat_error *iam_list_users(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out);
struct moat_error *iam_update_user(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out);
struct moat_error *iam_delete_user(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out);
struct moat_error *iam_tag_user(struct moat_call *call, const struct moat_value *in,
                                struct moat_value *out);
struct moat_error *iam_untag_user(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out);
struct moat_error *iam_list_user_tags(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out);
struct moat_error *iam_put_user_permissions_boundary(struct moat_call *call,
                                                     const struct moat_value *in,
                                                     struct moat_value *out);
struct moat_error *iam_delete_user_permissions_boundary(struct moat_call *call,
                                                        const struct moat_value *in,
                                                        struct moat_value *out);
struct moat_error *iam_create_group(struct moat_call *call, const struct moat_value *in,
                                    struct moat_value *out);
struct moat_error *iam_get_group(struct moat_call *call, const struct moat_value *in,
                                 struct moat_value *out);
struct moat_error *iam_list_groups(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out);
struct moat_error *iam_update_group(struct moat_call *call, const struct moat_value *in,
                                    struct moat_value *out);
struct moat_error *iam_delete_group(struct moat_call *call, const struct moat_value *in,
                                    struct moat_value *out);
struct moat_error *iam_add_user_to_group(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out);
struct moat_error *iam_remove_user_from_group(struct moat_call *call, const struct moat_value *in,
                                              struct moat_value *out);
struct moat_error *iam_list_groups_for_user(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out);
struct moat_error *iam_create_role(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out);
struct moat_error *iam_get_role(struct moat_call *call, const struct moat_value *in,
                                struct moat_value *out);
struct moat_error *iam_list_roles(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out);
struct moat_error *iam_update_role(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out);
struct moat_error *iam_update_role_description(struct moat_call *call, const struct moat_value *in,
                                               struct moat_value *out);
struct moat_error *iam_delete_role(struct moat_call *call, const struct moat_value *in,
                                   struct moat_value *out);
struct moat_error *iam_update_assume_role_policy(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out);
struct moat_error *iam_tag_role(struct moat_call *call, const struct moat_value *in,
                                struct moat_value *out);
struct moat_error *iam_untag_role(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out);
struct moat_error *iam_list_role_tags(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out);
struct moat_error *iam_put_role_permissions_boundary(struct moat_call *call,
                                                     const struct moat_value *in,
                                                     struct moat_value *out);
struct moat_error *iam_delete_role_permissions_boundary(struct moat_call *call,
                                                        const struct moat_value *in,
                                                        struct moat_value *out);
struct moat_error *iam_create_access_key(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out);
struct moat_error *iam_list_access_keys(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out);
struct moat_error *iam_update_access_key(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out);
struct moat_error *iam_delete_access_key(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out);
struct moat_error *iam_get_access_key_last_used(struct moat_call *call, const struct moat_value *in,
                                                struct moat_value *out);
struct moat_error *iam_create_virtual_mfa_device(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out);
struct moat_error *iam_enable_mfa_device(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out);
struct moat_error *iam_deactivate_mfa_device(struct moat_call *call, const struct moat_value *in,
                                             struct moat_value *out);
struct moat_error *iam_delete_virtual_mfa_device(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out);
struct moat_error *iam_resync_mfa_device(struct moat_call *call, const struct moat_value *in,
                                         struct moat_value *out);
struct moat_error *iam_list_mfa_devices(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out);
struct moat_error *iam_list_virtual_mfa_devices(struct moat_call *call, const struct moat_value *in,
                                                struct moat_value *out);
struct moat_error *iam_get_mfa_device(struct moat_call *call, const struct moat_value *in,
                                      struct moat_value *out);
struct moat_error *iam_create_policy(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out);
struct moat_error *iam_get_policy(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out);
struct moat_error *iam_list_policies(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out);
struct moat_error *iam_delete_policy(struct moat_call *call, const struct moat_value *in,
                                     struct moat_value *out);
struct moat_error *iam_create_policy_version(struct moat_call *call, const struct moat_value *in,
                                             struct moat_value *out);
struct moat_error *iam_get_policy_version(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *iam_list_policy_versions(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out);
struct moat_error *iam_delete_policy_version(struct moat_call *call, const struct moat_value *in,
                                             struct moat_value *out);
struct moat_error *iam_set_default_policy_version(struct moat_call *call,
                                                  const struct moat_value *in,
                                                  struct moat_value *out);
struct moat_error *iam_tag_policy(struct moat_call *call, const struct moat_value *in,
                                  struct moat_value *out);
struct moat_error *iam_untag_policy(struct moat_call *call, const struct moat_value *in,
                                    struct moat_value *out);
struct moat_error *iam_list_policy_tags(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out);
struct moat_error *iam_list_entities_for_policy(struct moat_call *call, const struct moat_value *in,
                                                struct moat_value *out);
struct moat_error *iam_put_user_policy(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out);
struct moat_error *iam_get_user_policy(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out);
struct moat_error *iam_list_user_policies(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *iam_delete_user_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *iam_put_group_policy(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out);
struct moat_error *iam_get_group_policy(struct moat_call *call, const struct moat_value *in,
                                        struct moat_value *out);
struct moat_error *iam_list_group_policies(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out);
struct moat_error *iam_delete_group_policy(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out);
struct moat_error *iam_put_role_policy(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out);
struct moat_error *iam_get_role_policy(struct moat_call *call, const struct moat_value *in,
                                       struct moat_value *out);
struct moat_error *iam_list_role_policies(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *iam_delete_role_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *iam_attach_user_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *iam_detach_user_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *iam_list_attached_user_policies(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_value *out);
struct moat_error *iam_attach_group_policy(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out);
struct moat_error *iam_detach_group_policy(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out);
struct moat_error *iam_list_attached_group_policies(struct moat_call *call,
                                                    const struct moat_value *in,
                                                    struct moat_value *out);
struct moat_error *iam_attach_role_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *iam_detach_role_policy(struct moat_call *call, const struct moat_value *in,
                                          struct moat_value *out);
struct moat_error *iam_list_attached_role_policies(struct moat_call *call,
                                                   const struct moat_value *in,
                                                   struct moat_value *out);
struct moat_error *iam_get_account_authorization_details(struct moat_call *call,
                                                         const struct moat_value *in,
                                                         struct moat_value *out);
struct moat_error *iam_get_account_summary(struct moat_call *call, const struct moat_value *in,
                                           struct moat_value *out);
struct moat_error *iam_create_account_alias(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out);
struct moat_error *iam_list_account_aliases(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out);
struct moat_error *iam_delete_account_alias(struct moat_call *call, const struct moat_value *in,
                                            struct moat_value *out);
struct moat_error *iam_simulate_principal_policy(struct moat_call *call,
                                                 const struct moat_value *in,
                                                 struct moat_value *out);
struct moat_error *iam_simulate_custom_policy(struct moat_call *call, const struct moat_value *in,
                                              struct moat_value *out);
struct moat_error *iam_get_context_keys_for_principal_policy(struct moat_call *call,
                                                             const struct moat_value *in,
                                                             struct moat_value *out);
struct moat_error *iam_get_context_keys_for_custom_policy(struct moat_call *call,
                                                          const struct moat_value *in,
                                                          struct moat_value *out);

#endif
