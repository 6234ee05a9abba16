/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The data folder of `serve`: one folder per domain of the world, seeded from the world when new. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-data-folder.h"
#include "pl-maildir-store.h"
#include "pl-store-util-private.h"
#include "pl-textbook.h"

#include <errno.h>
#include <stdio.h>

char *
pl_data_folder_dup_domain_path (const char *data_dir,
                                const char *domain)
{
  g_autofree char *lower = NULL;

  g_return_val_if_fail (data_dir != NULL, NULL);
  g_return_val_if_fail (domain != NULL, NULL);

  lower = g_ascii_strdown (domain, -1);
  return g_build_filename (data_dir, lower, NULL);
}

char *
pl_data_folder_dup_queue_path (const char *data_dir,
                               const char *domain)
{
  g_autofree char *root = NULL;

  g_return_val_if_fail (data_dir != NULL, NULL);
  g_return_val_if_fail (domain != NULL, NULL);

  root = pl_data_folder_dup_domain_path (data_dir, domain);
  return g_build_filename (root, "queue", NULL);
}

/* An old one-domain folder (DATA/users, DATA/mail) becomes DATA/b.example/{users,mail}. */
static gboolean
migrate_legacy (const char  *data_dir,
                const char  *root,
                gboolean    *migrated,
                GError     **error)
{
  g_autofree char *old_users = g_build_filename (data_dir, "users", NULL);
  g_autofree char *old_mail = g_build_filename (data_dir, "mail", NULL);
  g_autofree char *new_users = g_build_filename (root, "users", NULL);
  g_autofree char *new_mail = g_build_filename (root, "mail", NULL);

  *migrated = FALSE;
  if (g_file_test (root, G_FILE_TEST_EXISTS)
      || (!g_file_test (old_users, G_FILE_TEST_IS_REGULAR) && !g_file_test (old_mail, G_FILE_TEST_IS_DIR)))
    return TRUE;

  if (g_mkdir_with_parents (root, 0700) != 0)
    {
      pl_store_set_io_error (error, errno, "Cannot create folder", root);
      return FALSE;
    }
  if (g_file_test (old_users, G_FILE_TEST_EXISTS) && rename (old_users, new_users) != 0)
    {
      pl_store_set_io_error (error, errno, "Cannot move the old users file to", new_users);
      return FALSE;
    }
  if (g_file_test (old_mail, G_FILE_TEST_EXISTS) && rename (old_mail, new_mail) != 0)
    {
      pl_store_set_io_error (error, errno, "Cannot move the old mail folder to", new_mail);
      return FALSE;
    }
  *migrated = TRUE;
  return pl_store_fsync_dir (root, error) && pl_store_fsync_dir (data_dir, error);
}

static gboolean
seed (PlMailStore          *store,
      const PlWorldDomain  *domain,
      GString              *report,
      GError              **error)
{
  g_autoptr(GString) users = g_string_new (NULL);
  g_autoptr(GString) mailboxes = g_string_new (NULL);

  for (guint i = 0; i < domain->users->len; i++)
    {
      const PlWorldUser *user = g_ptr_array_index (domain->users, i);

      if (!pl_maildir_store_add_user (PL_MAILDIR_STORE (store), user->name, user->password, error))
        return FALSE;
      g_string_append_printf (users, "%s%s (password %s)", users->len > 0 ? ", " : "",
                              user->name, user->password);
      if (user->mailbox != NULL && g_str_equal (user->mailbox, "textbook"))
        {
          for (guint m = 0; m < PL_TEXTBOOK_N_MESSAGES; m++)
            {
              g_autoptr(GBytes) message = pl_textbook_message (m);
              gsize len;
              const guint8 *data = g_bytes_get_data (message, &len);

              if (!pl_mail_store_deliver (store, user->name, data, len, error))
                return FALSE;
            }
          g_string_append_printf (mailboxes, "; the textbook's mailbox for %s (%u messages)",
                                  user->name, PL_TEXTBOOK_N_MESSAGES);
        }
    }
  if (users->len > 0)
    g_string_append_printf (report, ": added user%s %s%s", domain->users->len > 1 ? "s" : "",
                            users->str, mailboxes->str);
  else
    g_string_append (report, ": the world gives this domain no users");
  return TRUE;
}

PlMailStore *
pl_data_folder_open_domain (const char  *data_dir,
                            PlWorld     *world,
                            const char  *domain_name,
                            char       **report,
                            GError     **error)
{
  g_autoptr(PlMailStore) store = NULL;
  g_autoptr(GString) said = g_string_new (NULL);
  g_autofree char *root = NULL;
  const PlWorldDomain *domain;
  gboolean migrated = FALSE;

  g_return_val_if_fail (data_dir != NULL, NULL);
  g_return_val_if_fail (PL_IS_WORLD (world), NULL);
  g_return_val_if_fail (domain_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (report != NULL)
    *report = NULL;
  domain = pl_world_lookup_domain (world, domain_name);
  if (domain == NULL)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                   "The world (%s) has no domain %s", pl_world_get_source (world), domain_name);
      return NULL;
    }
  root = pl_data_folder_dup_domain_path (data_dir, domain->name);

  if (g_str_equal (domain->name, PL_DATA_FOLDER_LEGACY_DOMAIN)
      && !migrate_legacy (data_dir, root, &migrated, error))
    return NULL;
  if (migrated)
    g_string_append_printf (said, "Moved the mail of the older one-domain data folder %s into %s",
                            data_dir, root);

  store = pl_maildir_store_new (root, error);
  if (store == NULL)
    return NULL;
  if (pl_maildir_store_is_empty (PL_MAILDIR_STORE (store)))
    {
      if (said->len > 0)
        g_string_append (said, ". ");
      g_string_append_printf (said, "New data folder %s", root);
      if (!seed (store, domain, said, error))
        return NULL;
    }
  if (report != NULL && said->len > 0)
    *report = g_strdup (said->str);
  return g_steal_pointer (&store);
}
