/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the data folder: one folder per domain, seeded from the world, older folders moved in. */
#include <string.h>

#include <glib/gstdio.h>

#include "pl-data-folder.h"
#include "pl-maildir-store.h"

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

static guint
n_messages (PlMailStore *store,
            const char  *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMaildrop) drop = pl_mail_store_open_maildrop (store, user, &error);
  guint n;

  g_assert_no_error (error);
  n = pl_maildrop_get_n_messages (drop);
  pl_maildrop_close (drop);
  return n;
}

static void
test_seed_from_world (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = g_dir_make_tmp ("postlab-data-XXXXXX", NULL);
  g_autoptr(PlWorld) world = pl_world_new_default (NULL);
  g_autoptr(PlMailStore) a = NULL;
  g_autoptr(PlMailStore) b = NULL;
  g_autofree char *report_a = NULL;
  g_autofree char *report_b = NULL;
  g_autofree char *users_a = NULL;
  g_autofree char *users_path = g_build_filename (data, "a.example", "users", NULL);
  g_autofree char *bob_new = g_build_filename (data, "b.example", "mail", "bob", "new", NULL);
  g_autofree char *queue = pl_data_folder_dup_queue_path (data, "A.Example");
  g_autofree char *expected_queue = g_build_filename (data, "a.example", "queue", NULL);

  a = pl_data_folder_open_domain (data, world, "a.example", &report_a, &error);
  g_assert_no_error (error);
  b = pl_data_folder_open_domain (data, world, "b.example", &report_b, &error);
  g_assert_no_error (error);

  g_assert_true (g_str_has_prefix (report_a, "New data folder "));
  g_assert_nonnull (strstr (report_a, "a.example: added user alice (password crepes)"));
  g_assert_nonnull (strstr (report_b, "b.example: added user bob (password hungry); "
                                      "the textbook's mailbox for bob (2 messages)"));
  g_assert_true (g_file_get_contents (users_path, &users_a, NULL, NULL));
  g_assert_cmpstr (users_a, ==, "alice:crepes\n");
  g_assert_true (pl_mail_store_check_password (a, "alice", "crepes"));
  g_assert_false (pl_mail_store_has_user (a, "bob"));
  g_assert_true (pl_mail_store_check_password (b, "bob", "hungry"));
  g_assert_cmpuint (n_messages (a, "alice"), ==, 0);
  g_assert_cmpuint (n_messages (b, "bob"), ==, 2);
  g_assert_true (g_file_test (bob_new, G_FILE_TEST_IS_DIR));
  g_assert_cmpstr (queue, ==, expected_queue);

  /* Opened again: nothing is added, nothing said. */
  g_clear_object (&b);
  g_clear_pointer (&report_b, g_free);
  b = pl_data_folder_open_domain (data, world, "b.example", &report_b, &error);
  g_assert_no_error (error);
  g_assert_null (report_b);
  g_assert_cmpuint (n_messages (b, "bob"), ==, 2);

  /* A domain the world does not have. */
  g_assert_null (pl_data_folder_open_domain (data, world, "c.example", NULL, &error));
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID);
  remove_tree (data);
}

static void
test_users_file_wins (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = g_dir_make_tmp ("postlab-data-XXXXXX", NULL);
  g_autoptr(PlWorld) world = pl_world_new_default (NULL);
  g_autofree char *root = g_build_filename (data, "b.example", NULL);
  g_autofree char *users = g_build_filename (root, "users", NULL);
  g_autoptr(PlMailStore) b = NULL;
  g_autofree char *report = NULL;

  /* A folder someone set up by hand is used as it is. */
  g_assert_cmpint (g_mkdir_with_parents (root, 0700), ==, 0);
  g_assert_true (g_file_set_contents (users, "carol:secret\n", -1, NULL));
  b = pl_data_folder_open_domain (data, world, "b.example", &report, &error);
  g_assert_no_error (error);
  g_assert_null (report);
  g_assert_true (pl_mail_store_has_user (b, "carol"));
  g_assert_false (pl_mail_store_has_user (b, "bob"));
  remove_tree (data);
}

static void
test_legacy_folder_moved (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = g_dir_make_tmp ("postlab-data-XXXXXX", NULL);
  g_autoptr(PlWorld) world = pl_world_new_default (NULL);
  g_autoptr(PlMailStore) old = NULL;
  g_autoptr(PlMailStore) b = NULL;
  g_autofree char *report = NULL;
  g_autofree char *old_users = g_build_filename (data, "users", NULL);
  g_autofree char *new_users = g_build_filename (data, "b.example", "users", NULL);
  static const char message[] = "Subject: kept\r\n\r\nhi\r\n";

  /* What issue 2's serve made: one store at the top. */
  old = pl_maildir_store_new (data, &error);
  g_assert_no_error (error);
  g_assert_true (pl_maildir_store_add_user (PL_MAILDIR_STORE (old), "bob", "not-hungry", &error));
  g_assert_true (pl_mail_store_deliver (old, "bob", (const guint8 *) message, sizeof message - 1, &error));
  g_clear_object (&old);

  b = pl_data_folder_open_domain (data, world, "b.example", &report, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  g_assert_true (g_str_has_prefix (report, "Moved the mail of the older one-domain data folder"));
  g_assert_false (g_file_test (old_users, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (new_users, G_FILE_TEST_EXISTS));
  /* The old password and mail are kept, not replaced by the world's. */
  g_assert_true (pl_mail_store_check_password (b, "bob", "not-hungry"));
  g_assert_cmpuint (n_messages (b, "bob"), ==, 1);
  remove_tree (data);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/data-folder/seed-from-world", test_seed_from_world);
  g_test_add_func ("/data-folder/users-file-wins", test_users_file_wins);
  g_test_add_func ("/data-folder/legacy-folder-moved", test_legacy_folder_moved);
  return g_test_run ();
}
