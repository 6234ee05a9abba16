/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the textbook mailbox: the 498- and 912-octet messages of the POP3 figure. */
#include "pl-maildir-store.h"
#include "pl-memory-store.h"
#include "pl-message.h"
#include "pl-textbook.h"

#include <glib/gstdio.h>
#include <string.h>

static void
test_sizes (void)
{
  static const gsize sizes[PL_TEXTBOOK_N_MESSAGES] = { 498, 912 };

  for (guint i = 0; i < PL_TEXTBOOK_N_MESSAGES; i++)
    {
      g_autoptr(GBytes) message = pl_textbook_message (i);
      gsize len;
      const guint8 *data = g_bytes_get_data (message, &len);

      g_assert_cmpuint (len, ==, sizes[i]);
      /* Already CRLF: nothing to add on the wire. */
      g_assert_cmpuint (pl_crlf_size (data, len), ==, sizes[i]);
      for (gsize j = 0; j < len; j++)
        {
          if (data[j] == '\n')
            g_assert_true (j > 0 && data[j - 1] == '\r');
          if (data[j] == '\r')
            g_assert_true (j + 1 < len && data[j + 1] == '\n');
          /* Plain ASCII, as its Content-Type says. */
          g_assert_cmpuint (data[j], <, 0x80);
        }
      g_assert_true (len >= 2 && data[len - 2] == '\r' && data[len - 1] == '\n');
    }
}

/* The figure's point about dot-stuffing needs a body line that starts with '.'. */
static void
test_dot_line (void)
{
  gboolean found = FALSE;

  for (guint i = 0; i < PL_TEXTBOOK_N_MESSAGES; i++)
    {
      g_autoptr(GBytes) message = pl_textbook_message (i);
      g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
      const char *body = strstr (text, "\r\n\r\n");

      g_assert_nonnull (body);
      if (strstr (body, "\r\n.") != NULL)
        found = TRUE;
    }
  g_assert_true (found);
}

static void
test_headers (void)
{
  static const char * const subjects[PL_TEXTBOOK_N_MESSAGES] = { "Hungry?", "Lunch plan, step by step" };

  for (guint i = 0; i < PL_TEXTBOOK_N_MESSAGES; i++)
    {
      g_autoptr(GBytes) message = pl_textbook_message (i);
      g_autoptr(PlMessageSummary) summary = pl_message_summary_parse (message);
      g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));

      g_assert_cmpstr (summary->from, ==, "Alice <alice@a.example>");
      g_assert_cmpstr (summary->to, ==, "Bob <bob@b.example>");
      g_assert_cmpstr (summary->subject, ==, subjects[i]);
      g_assert_nonnull (summary->date);
      g_assert_nonnull (summary->message_id);
      g_assert_true (g_str_has_suffix (summary->message_id, "@a.example"));
      g_assert_nonnull (strstr (text, "\r\nMIME-Version: 1.0\r\n"));
      g_assert_nonnull (strstr (text, "\r\nContent-Type: text/plain"));
    }
}

/* The maildrop says "1 498", "2 912", as the figure lists it. */
static void
assert_textbook_listing (PlMailStore *store)
{
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) listing = g_string_new (NULL);

  g_assert_true (pl_mail_store_check_password (store, PL_TEXTBOOK_USER, PL_TEXTBOOK_PASSWORD));
  drop = pl_mail_store_open_maildrop (store, PL_TEXTBOOK_USER, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < pl_maildrop_get_n_messages (drop); i++)
    {
      g_autoptr(GBytes) read = pl_maildrop_read (drop, i, &error);
      g_autoptr(GBytes) original = pl_textbook_message (i);

      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (read, original));
      g_string_append_printf (listing, "%u %" G_GSIZE_FORMAT "\n", i + 1,
                              pl_maildrop_get_message (drop, i)->size);
    }
  g_assert_cmpstr (listing->str, ==, "1 498\n2 912\n");
  g_assert_cmpuint (pl_maildrop_get_total_size (drop), ==, 498 + 912);
}

static void
test_seed_memory (void)
{
  g_autoptr(PlMailStore) store = pl_memory_store_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (pl_textbook_seed (store, &error));
  g_assert_no_error (error);
  assert_textbook_listing (store);
}

/* An existing bob keeps his password; the messages are still delivered. */
static void
test_seed_existing_user (void)
{
  g_autoptr(PlMailStore) store = pl_memory_store_new ();
  g_autoptr(GError) error = NULL;

  pl_memory_store_add_user (PL_MEMORY_STORE (store), "bob", "other");
  g_assert_true (pl_textbook_seed (store, &error));
  g_assert_no_error (error);
  g_assert_true (pl_mail_store_check_password (store, "bob", "other"));
  g_assert_false (pl_mail_store_check_password (store, "bob", "hungry"));
  g_assert_cmpuint (pl_memory_store_count (PL_MEMORY_STORE (store), "bob"), ==, 2);
}

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
          g_assert_cmpint (g_unlink (child), ==, 0);
      }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static void
test_seed_maildir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("postlab-textbook-XXXXXX", &error);
  g_autoptr(PlMailStore) store = NULL;
  g_autoptr(PlMailStore) reopened = NULL;

  g_assert_no_error (error);
  store = pl_maildir_store_new (root, &error);
  g_assert_no_error (error);
  g_assert_true (pl_maildir_store_is_empty (PL_MAILDIR_STORE (store)));
  g_assert_true (pl_textbook_seed (store, &error));
  g_assert_no_error (error);
  g_assert_false (pl_maildir_store_is_empty (PL_MAILDIR_STORE (store)));
  assert_textbook_listing (store);

  /* What was seeded is on disk: a new store object over the folder sees it. */
  reopened = pl_maildir_store_new (root, &error);
  g_assert_no_error (error);
  assert_textbook_listing (reopened);

  g_clear_object (&store);
  g_clear_object (&reopened);
  remove_tree (root);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/store/textbook/sizes", test_sizes);
  g_test_add_func ("/store/textbook/dot-line", test_dot_line);
  g_test_add_func ("/store/textbook/headers", test_headers);
  g_test_add_func ("/store/textbook/seed-memory", test_seed_memory);
  g_test_add_func ("/store/textbook/seed-existing-user", test_seed_existing_user);
  g_test_add_func ("/store/textbook/seed-maildir", test_seed_maildir);

  return g_test_run ();
}
