/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of PlMemoryStore: users, delivery, sizes, the maildrop lock, expunge. */
#include "pl-memory-store.h"

#include <string.h>

static PlMailStore *
new_store_with_bob (void)
{
  PlMailStore *store = pl_memory_store_new ();

  pl_memory_store_add_user (PL_MEMORY_STORE (store), "bob", "hungry");
  return store;
}

static void
deliver_text (PlMailStore *store,
              const char  *user,
              const char  *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pl_mail_store_deliver (store, user, (const guint8 *) text, strlen (text), &error));
  g_assert_no_error (error);
}

static void
test_passwords (void)
{
  static const struct {
    const char *user;
    const char *password;
    gboolean    accepted;
  } cases[] = {
    { "bob",   "hungry",  TRUE },
    { "bob",   "Hungry",  FALSE },
    { "bob",   "hungry ", FALSE },
    { "bob",   "hungr",   FALSE },
    { "bob",   "",        FALSE },
    { "Bob",   "hungry",  FALSE },
    { "alice", "hungry",  FALSE },
    { "",      "hungry",  FALSE },
  };
  g_autoptr(PlMailStore) store = new_store_with_bob ();

  g_assert_true (pl_mail_store_has_user (store, "bob"));
  g_assert_false (pl_mail_store_has_user (store, "alice"));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u: %s / %s", i, cases[i].user, cases[i].password);
      g_assert_cmpint (pl_mail_store_check_password (store, cases[i].user, cases[i].password),
                       ==, cases[i].accepted);
    }
  g_assert_false (pl_mail_store_check_password (store, "bob", NULL));

  /* add_user again changes the password and keeps the mail. */
  deliver_text (store, "bob", "Subject: kept\r\n\r\nhi\r\n");
  pl_memory_store_add_user (PL_MEMORY_STORE (store), "bob", "full");
  g_assert_false (pl_mail_store_check_password (store, "bob", "hungry"));
  g_assert_true (pl_mail_store_check_password (store, "bob", "full"));
  g_assert_cmpuint (pl_memory_store_count (PL_MEMORY_STORE (store), "bob"), ==, 1);
}

static void
test_sizes (void)
{
  static const struct {
    const char *stored;
    gsize       size;       /* octets with CRLF line ends */
    const char *read;
  } cases[] = {
    { "a\r\nb\r\n",     6, "a\r\nb\r\n" },
    { "a\nb\n",         6, "a\r\nb\r\n" },
    { "a\r\nb\n",       6, "a\r\nb\r\n" },
    { "\n",             2, "\r\n" },
    { "no newline",    10, "no newline" },
    { "",               0, "" },
    { "lone\rcr\n",     9, "lone\rcr\r\n" },
  };
  g_autoptr(PlMailStore) store = new_store_with_bob ();
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;
  gsize total = 0;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    deliver_text (store, "bob", cases[i].stored);

  drop = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, G_N_ELEMENTS (cases));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const PlMessageInfo *info = pl_maildrop_get_message (drop, i);
      g_autoptr(GBytes) bytes = pl_maildrop_read (drop, i, &error);

      g_test_message ("case %u", i);
      g_assert_no_error (error);
      g_assert_cmpuint (info->size, ==, cases[i].size);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                       cases[i].read, strlen (cases[i].read));
      total += cases[i].size;
    }
  g_assert_cmpuint (pl_maildrop_get_total_size (drop), ==, total);
  g_assert_null (pl_maildrop_get_message (drop, G_N_ELEMENTS (cases)));
}

static void
test_lock (void)
{
  g_autoptr(PlMailStore) store = new_store_with_bob ();
  g_autoptr(PlMaildrop) first = NULL;
  g_autoptr(PlMaildrop) second = NULL;
  g_autoptr(PlMaildrop) third = NULL;
  g_autoptr(GError) error = NULL;

  pl_memory_store_add_user (PL_MEMORY_STORE (store), "alice", "secret");
  first = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pl_maildrop_get_user (first), ==, "bob");

  second = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED);
  g_assert_null (second);
  g_clear_error (&error);

  /* Another user's maildrop is not affected. */
  third = pl_mail_store_open_maildrop (store, "alice", &error);
  g_assert_no_error (error);
  g_clear_object (&third);

  /* Delivery goes on while the maildrop is locked. */
  deliver_text (store, "bob", "late\r\n");

  pl_maildrop_close (first);
  pl_maildrop_close (first);   /* idempotent */
  second = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
  g_assert_nonnull (second);
  g_assert_cmpuint (pl_maildrop_get_n_messages (second), ==, 1);

  /* Dropping the last reference closes too. */
  g_clear_object (&second);
  third = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
}

static void
test_snapshot (void)
{
  g_autoptr(PlMailStore) store = new_store_with_bob ();
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;

  deliver_text (store, "bob", "one\r\n");
  drop = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
  deliver_text (store, "bob", "two\r\n");

  /* RFC 1939: numbers and sizes do not change during a session. */
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, 1);
  g_assert_cmpuint (pl_memory_store_count (PL_MEMORY_STORE (store), "bob"), ==, 2);
}

static void
test_expunge (void)
{
  g_autoptr(PlMailStore) store = new_store_with_bob ();
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid_b = NULL;
  g_autofree char *uid_d = NULL;
  const guint doomed[] = { 0, 2 };
  const guint out_of_range[] = { 1, 4 };
  static const char * const texts[] = { "a\r\n", "b\r\n", "c\r\n", "d\r\n" };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    deliver_text (store, "bob", texts[i]);

  drop = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
  uid_b = g_strdup (pl_maildrop_get_message (drop, 1)->uid);
  uid_d = g_strdup (pl_maildrop_get_message (drop, 3)->uid);

  /* An index out of range removes nothing at all. */
  g_assert_false (pl_maildrop_expunge (drop, out_of_range, G_N_ELEMENTS (out_of_range), &error));
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_MESSAGE);
  g_clear_error (&error);
  g_assert_cmpuint (pl_memory_store_count (PL_MEMORY_STORE (store), "bob"), ==, 4);

  g_assert_true (pl_maildrop_expunge (drop, doomed, G_N_ELEMENTS (doomed), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pl_memory_store_count (PL_MEMORY_STORE (store), "bob"), ==, 2);
  g_clear_object (&drop);

  drop = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, 2);
  /* The survivors keep their UIDs (RFC 1939 section 7: UIDL is stable). */
  g_assert_cmpstr (pl_maildrop_get_message (drop, 0)->uid, ==, uid_b);
  g_assert_cmpstr (pl_maildrop_get_message (drop, 1)->uid, ==, uid_d);
  {
    g_autoptr(GBytes) bytes = pl_maildrop_read (drop, 0, &error);

    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "b\r\n", 3);
  }
}

static void
test_uids (void)
{
  g_autoptr(PlMailStore) store = new_store_with_bob ();
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;

  /* Identical messages still get different UIDs. */
  for (guint i = 0; i < 5; i++)
    deliver_text (store, "bob", "same\r\n");
  drop = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 5; i++)
    {
      const char *uid = pl_maildrop_get_message (drop, i)->uid;
      gsize len = strlen (uid);

      g_assert_cmpuint (len, >=, 1);
      g_assert_cmpuint (len, <=, 70);
      for (gsize j = 0; j < len; j++)
        {
          g_assert_cmpint (uid[j], >=, 0x21);
          g_assert_cmpint (uid[j], <=, 0x7E);
        }
      g_assert_false (g_hash_table_contains (seen, uid));
      g_hash_table_add (seen, (gpointer) uid);
    }
}

static void
test_unknown_user (void)
{
  g_autoptr(PlMailStore) store = new_store_with_bob ();
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;

  drop = pl_mail_store_open_maildrop (store, "mallory", &error);
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_USER);
  g_assert_null (drop);
  g_clear_error (&error);

  g_assert_false (pl_mail_store_deliver (store, "mallory", (const guint8 *) "x\r\n", 3, &error));
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_USER);
  g_assert_cmpuint (pl_memory_store_count (PL_MEMORY_STORE (store), "mallory"), ==, 0);
}

static void
test_read_out_of_range (void)
{
  g_autoptr(PlMailStore) store = new_store_with_bob ();
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  deliver_text (store, "bob", "one\r\n");
  drop = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
  bytes = pl_maildrop_read (drop, 1, &error);
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_MESSAGE);
  g_assert_null (bytes);
}

/* A maildrop may outlive every other reference to its store (a session ending late). */
static void
test_maildrop_outlives_store (void)
{
  PlMailStore *store = new_store_with_bob ();
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  deliver_text (store, "bob", "one\n");
  drop = pl_mail_store_open_maildrop (store, "bob", &error);
  g_assert_no_error (error);
  g_object_unref (store);
  bytes = pl_maildrop_read (drop, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 5);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/store/memory/passwords", test_passwords);
  g_test_add_func ("/store/memory/sizes", test_sizes);
  g_test_add_func ("/store/memory/lock", test_lock);
  g_test_add_func ("/store/memory/snapshot", test_snapshot);
  g_test_add_func ("/store/memory/expunge", test_expunge);
  g_test_add_func ("/store/memory/uids", test_uids);
  g_test_add_func ("/store/memory/unknown-user", test_unknown_user);
  g_test_add_func ("/store/memory/read-out-of-range", test_read_out_of_range);
  g_test_add_func ("/store/memory/maildrop-outlives-store", test_maildrop_outlives_store);

  return g_test_run ();
}
