/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of PlMaildirStore: users file, durable delivery, sizes, locks, expunge, names. */
#include "pl-maildir-store.h"
#include "pl-maildir-maildrop-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Each test gets a fresh folder, removed afterwards. */
typedef struct {
  char        *root;
  PlMailStore *store;   /* with bob/hungry */
} Fixture;

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
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
}

static char *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  return contents;
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* The names in ROOT/mail/USER/SUBDIR, sorted, NULL-terminated. */
static GStrv
list_dir (Fixture    *fixture,
          const char *user,
          const char *subdir)
{
  g_autofree char *path = g_build_filename (fixture->root, "mail", user, subdir, NULL);
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *name;

  dir = g_dir_open (path, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

static char *
new_message_path (Fixture    *fixture,
                  const char *user,
                  guint       index)
{
  g_auto(GStrv) names = list_dir (fixture, user, "new");

  g_assert_cmpuint (index, <, g_strv_length (names));
  return g_build_filename (fixture->root, "mail", user, "new", names[index], NULL);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->root = g_dir_make_tmp ("postlab-maildir-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = pl_maildir_store_new (fixture->root, &error);
  g_assert_no_error (error);
  g_assert_true (pl_maildir_store_add_user (PL_MAILDIR_STORE (fixture->store),
                                            "bob", "hungry", &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->store);
  remove_tree (fixture->root);
  g_free (fixture->root);
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

/* --- the users file --------------------------------------------------- */

static void
test_users_good (Fixture       *fixture,
                 gconstpointer  data)
{
  static const struct {
    const char *contents;
    const char *user;
    const char *password;       /* NULL: @user must not exist */
  } cases[] = {
    { "bob:hungry\n", "bob", "hungry" },
    { "bob:hungry", "bob", "hungry" },                           /* no final newline */
    { "bob:hungry\r\n", "bob", "hungry" },                       /* CRLF */
    { "# the class\n\nbob:hungry\n", "bob", "hungry" },
    { "   # indented comment\n\t\nbob:hungry\n", "bob", "hungry" },
    { "alice:a:b:c\n", "alice", "a:b:c" },                       /* ':' in the password */
    { "alice:with space \n", "alice", "with space " },
    { "a.b_c-d:x\n", "a.b_c-d", "x" },
    { "#bob:hungry\n", "bob", NULL },                            /* commented out */
    { "", "bob", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *root = g_build_filename (fixture->root, "case", NULL);
      g_autofree char *users = g_build_filename (root, "users", NULL);
      g_autoptr(PlMailStore) store = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("case %u: %s", i, cases[i].contents);
      g_assert_cmpint (g_mkdir (root, 0700), ==, 0);
      write_file (users, cases[i].contents);
      store = pl_maildir_store_new (root, &error);
      g_assert_no_error (error);
      g_assert_cmpint (pl_mail_store_has_user (store, cases[i].user), ==, cases[i].password != NULL);
      if (cases[i].password != NULL)
        {
          g_autofree char *wrong = g_strconcat (cases[i].password, "x", NULL);

          g_assert_true (pl_mail_store_check_password (store, cases[i].user, cases[i].password));
          g_assert_false (pl_mail_store_check_password (store, cases[i].user, wrong));
        }
      g_assert_cmpint (pl_maildir_store_is_empty (PL_MAILDIR_STORE (store)), ==, cases[i].password == NULL);
      g_clear_object (&store);
      remove_tree (root);
    }
}

static void
test_users_bad (Fixture       *fixture,
                gconstpointer  data)
{
  static const struct {
    const char *contents;
    guint       line;
    const char *says;
  } cases[] = {
    { "bob\n", 1, "expected user:password" },
    { "# ok\nbob:hungry\nalice\n", 3, "expected user:password" },
    { "bob:\n", 1, "empty password" },
    { ":hungry\n", 1, "not a user name" },
    { "../x:pw\n", 1, "not a user name" },
    { "/etc:pw\n", 1, "not a user name" },
    { ".hidden:pw\n", 1, "not a user name" },
    { "a/b:pw\n", 1, "not a user name" },
    { "b o b:pw\n", 1, "not a user name" },
    { " bob:pw\n", 1, "not a user name" },
    { "bob:a\n\n\nbob:b\n", 4, "listed twice (first on line 1)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *root = g_build_filename (fixture->root, "case", NULL);
      g_autofree char *users = g_build_filename (root, "users", NULL);
      g_autofree char *where = NULL;
      g_autoptr(PlMailStore) store = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("case %u: %s", i, cases[i].contents);
      g_assert_cmpint (g_mkdir (root, 0700), ==, 0);
      write_file (users, cases[i].contents);
      store = pl_maildir_store_new (root, &error);
      g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID);
      g_assert_null (store);
      where = g_strdup_printf ("%s:%u: ", users, cases[i].line);
      g_assert_true (g_str_has_prefix (error->message, where));
      g_assert_nonnull (strstr (error->message, cases[i].says));
      remove_tree (root);
    }
}

/* A NUL byte cannot be written with a C string literal above. */
static void
test_users_nul (Fixture       *fixture,
                gconstpointer  data)
{
  static const char contents[] = "bob:hungry\nal\0ice:x\n";
  g_autofree char *users = g_build_filename (fixture->root, "users", NULL);
  g_autofree char *where = g_strdup_printf ("%s:2: ", users);
  g_autoptr(PlMailStore) store = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (users, contents, sizeof contents - 1, &error));
  g_assert_no_error (error);
  store = pl_maildir_store_new (fixture->root, &error);
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, where));
}

static void
test_users_missing (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("postlab-maildir-XXXXXX", &error);
  g_autofree char *root = g_build_filename (tmp, "new", "data", NULL);
  g_autofree char *mail = g_build_filename (root, "mail", NULL);
  g_autoptr(PlMailStore) store = NULL;

  g_assert_no_error (error);
  /* A data folder that does not exist yet is created, empty. */
  store = pl_maildir_store_new (root, &error);
  g_assert_no_error (error);
  g_assert_true (pl_maildir_store_is_empty (PL_MAILDIR_STORE (store)));
  g_assert_true (g_file_test (mail, G_FILE_TEST_IS_DIR));
  g_assert_cmpstr (pl_maildir_store_get_root (PL_MAILDIR_STORE (store)), ==, root);
  g_assert_false (pl_mail_store_has_user (store, "bob"));
  g_clear_object (&store);
  remove_tree (tmp);
}

static void
test_add_user (Fixture       *fixture,
               gconstpointer  data)
{
  PlMaildirStore *store = PL_MAILDIR_STORE (fixture->store);
  g_autofree char *users = g_build_filename (fixture->root, "users", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(PlMailStore) reopened = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (pl_maildir_store_is_empty (store));
  for (guint i = 0; i < 3; i++)
    {
      static const char * const parts[] = { "tmp", "new", "cur" };
      g_autofree char *maildir = pl_maildir_store_dup_maildir (store, "bob");
      g_autofree char *part = g_build_filename (maildir, parts[i], NULL);

      g_assert_true (g_file_test (part, G_FILE_TEST_IS_DIR));
    }

  /* Comments written by hand survive; a password change replaces the line. */
  write_file (users, "# Postlab users\nbob:hungry\n");
  g_assert_true (pl_maildir_store_add_user (store, "alice", "wonder:land", &error));
  g_assert_no_error (error);
  g_assert_true (pl_maildir_store_add_user (store, "bob", "full", &error));
  g_assert_no_error (error);
  contents = read_file (users);
  g_assert_cmpstr (contents, ==, "# Postlab users\nbob:full\nalice:wonder:land\n");
  g_assert_true (pl_mail_store_check_password (fixture->store, "bob", "full"));
  g_assert_true (pl_mail_store_check_password (fixture->store, "alice", "wonder:land"));

  /* Written durably and atomically: no temporary file left behind. */
  {
    g_autoptr(GDir) dir = g_dir_open (fixture->root, 0, &error);
    const char *name;

    g_assert_no_error (error);
    while ((name = g_dir_read_name (dir)) != NULL)
      g_assert_true (g_str_equal (name, "users") || g_str_equal (name, "mail"));
  }

  reopened = pl_maildir_store_new (fixture->root, &error);
  g_assert_no_error (error);
  g_assert_true (pl_mail_store_check_password (reopened, "alice", "wonder:land"));
  g_assert_true (pl_mail_store_check_password (reopened, "bob", "full"));
}

static void
test_add_user_refused (Fixture       *fixture,
                       gconstpointer  data)
{
  static const struct {
    const char *user;
    const char *password;
  } cases[] = {
    { "../x", "pw" },
    { "/etc", "pw" },
    { ".hidden", "pw" },
    { "..", "pw" },
    { "a/b", "pw" },
    { "", "pw" },
    { "bob:x", "pw" },
    { "b\nob", "pw" },
    { "0123456789012345678901234567890123456789012345678901234567890123456789", "pw" },
    { "carol", "" },
    { "carol", "two\nlines" },
    { "carol", "cr\r" },
  };
  g_autofree char *users = g_build_filename (fixture->root, "users", NULL);
  g_autofree char *before = read_file (users);
  g_autofree char *escaped = g_build_filename (fixture->root, "x", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *after = NULL;

      g_test_message ("case %u", i);
      g_assert_false (pl_maildir_store_add_user (PL_MAILDIR_STORE (fixture->store),
                                                 cases[i].user, cases[i].password, &error));
      g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID);
      after = read_file (users);
      g_assert_cmpstr (after, ==, before);
      g_assert_false (pl_mail_store_has_user (fixture->store, cases[i].user));
    }
  /* "../x" did not make ROOT/x (nor anything else outside ROOT/mail). */
  g_assert_false (g_file_test (escaped, G_FILE_TEST_EXISTS));
  g_assert_null (pl_maildir_store_dup_maildir (PL_MAILDIR_STORE (fixture->store), "../x"));
  g_assert_null (pl_maildir_store_dup_maildir (PL_MAILDIR_STORE (fixture->store), "/etc"));
  g_assert_null (pl_maildir_store_dup_maildir (PL_MAILDIR_STORE (fixture->store), ".hidden"));
}

/* --- delivery ---------------------------------------------------------- */

static void
test_deliver (Fixture       *fixture,
              gconstpointer  data)
{
  static const char message[] = "Subject: hi\r\n\r\nline one\r\nline two\r\n";
  g_auto(GStrv) tmp_names = NULL;
  g_auto(GStrv) new_names = NULL;
  g_auto(GStrv) cur_names = NULL;
  g_autofree char *path = NULL;
  g_autofree char *on_disk = NULL;
  g_autofree char *fields = NULL;
  PlMaildirName name;

  deliver_text (fixture->store, "bob", message);

  tmp_names = list_dir (fixture, "bob", "tmp");
  new_names = list_dir (fixture, "bob", "new");
  cur_names = list_dir (fixture, "bob", "cur");
  g_assert_cmpuint (g_strv_length (tmp_names), ==, 0);
  g_assert_cmpuint (g_strv_length (new_names), ==, 1);
  g_assert_cmpuint (g_strv_length (cur_names), ==, 0);

  /* LF on disk (the Maildir way); S= is the file, W= the size on the wire. */
  path = new_message_path (fixture, "bob", 0);
  on_disk = read_file (path);
  g_assert_cmpstr (on_disk, ==, "Subject: hi\n\nline one\nline two\n");
  fields = g_strdup_printf (",S=%" G_GSIZE_FORMAT ",W=%" G_GSIZE_FORMAT,
                            strlen (on_disk), sizeof message - 1);
  g_assert_true (g_str_has_suffix (new_names[0], fields));

  /* TIME.M<usec>P<pid>Q<n>.HOST, no ':' or '/' in it. */
  pl_maildir_name_parse (new_names[0], &name);
  g_assert_cmpuint (name.seconds, <=, (guint64) (g_get_real_time () / G_USEC_PER_SEC));
  g_assert_cmpuint (name.seconds + 60, >=, (guint64) (g_get_real_time () / G_USEC_PER_SEC));
  g_assert_cmpint (name.vsize, ==, (gint64) (sizeof message - 1));
  g_assert_null (name.flags);
  g_assert_null (strchr (new_names[0], ':'));
  g_assert_null (strchr (new_names[0], '/'));
  g_assert_nonnull (strstr (name.base, ".M"));
  pl_maildir_name_clear (&name);
}

static void
test_sizes (Fixture       *fixture,
            gconstpointer  data)
{
  static const struct {
    const char *delivered;
    gsize       size;
    const char *read;
  } cases[] = {
    { "a\r\nb\r\n",     6, "a\r\nb\r\n" },
    { "a\nb\n",         6, "a\r\nb\r\n" },
    { "a\r\nb\n",       6, "a\r\nb\r\n" },
    { "\r\n\r\n",       4, "\r\n\r\n" },
    { "no newline",    10, "no newline" },
    { "",               0, "" },
  };
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;
  gsize total = 0;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    deliver_text (fixture->store, "bob", cases[i].delivered);

  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, G_N_ELEMENTS (cases));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = pl_maildrop_read (drop, i, &error);

      g_test_message ("case %u", i);
      g_assert_no_error (error);
      g_assert_cmpuint (pl_maildrop_get_message (drop, i)->size, ==, cases[i].size);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                       cases[i].read, strlen (cases[i].read));
      total += cases[i].size;
    }
  g_assert_cmpuint (pl_maildrop_get_total_size (drop), ==, total);
}

/* Many deliveries in the same second come back in delivery order (Q10 after Q9). */
static void
test_order (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) uids = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < 25; i++)
    {
      g_autofree char *text = g_strdup_printf ("Subject: %u\r\n\r\n", i);

      deliver_text (fixture->store, "bob", text);
    }
  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, 25);
  for (guint i = 0; i < 25; i++)
    {
      g_autoptr(GBytes) bytes = pl_maildrop_read (drop, i, &error);
      g_autofree char *expected = g_strdup_printf ("Subject: %u\r\n\r\n", i);
      const char *uid = pl_maildrop_get_message (drop, i)->uid;

      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                       expected, strlen (expected));
      g_assert_cmpuint (strlen (uid), <=, 70);
      g_assert_false (g_hash_table_contains (uids, uid));
      g_hash_table_add (uids, (gpointer) uid);
    }
}

/*
 * A write that fails (here: the file size limit, EFBIG) leaves nothing in
 * tmp/ or new/ and says which file and why. Run in a subprocess so that the
 * limit does not outlive the test.
 */
static void
test_deliver_write_error (Fixture       *fixture,
                          gconstpointer  data)
{
  if (g_test_subprocess ())
    {
      struct rlimit limit = { 16, 16 };
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) tmp_names = NULL;
      g_auto(GStrv) new_names = NULL;
      static const char big[] = "Subject: more than sixteen octets\r\n\r\nbody\r\n";

      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      g_assert_false (pl_mail_store_deliver (fixture->store, "bob", (const guint8 *) big,
                                             sizeof big - 1, &error));
      g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO);
      g_assert_nonnull (strstr (error->message, "/tmp/"));
      g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
      tmp_names = list_dir (fixture, "bob", "tmp");
      new_names = list_dir (fixture, "bob", "new");
      g_assert_cmpuint (g_strv_length (tmp_names), ==, 0);
      g_assert_cmpuint (g_strv_length (new_names), ==, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* A Maildir broken by hand (new/ a dangling symlink): an error naming it, nothing left in tmp/. */
static void
test_deliver_broken_maildir (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *maildir = pl_maildir_store_dup_maildir (PL_MAILDIR_STORE (fixture->store), "bob");
  g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) tmp_names = NULL;

  g_assert_cmpint (g_rmdir (new_dir), ==, 0);
  g_assert_cmpint (symlink ("nowhere", new_dir), ==, 0);
  g_assert_false (pl_mail_store_deliver (fixture->store, "bob", (const guint8 *) "x\n", 2, &error));
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, new_dir));
  tmp_names = list_dir (fixture, "bob", "tmp");
  g_assert_cmpuint (g_strv_length (tmp_names), ==, 0);
  g_assert_cmpint (g_unlink (new_dir), ==, 0);
}

/* --- the maildrop ------------------------------------------------------ */

/* Leftovers of crashed deliveries go after 36 hours; a fresh tmp file stays. */
static void
test_clean_tmp (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *maildir = pl_maildir_store_dup_maildir (PL_MAILDIR_STORE (fixture->store), "bob");
  g_autofree char *old_file = g_build_filename (maildir, "tmp", "1.M1P1Q1.crashed", NULL);
  g_autofree char *young_file = g_build_filename (maildir, "tmp", "2.M1P1Q1.writing", NULL);
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;
  struct timespec old_times[2];

  write_file (old_file, "half a message");
  write_file (young_file, "half a message");
  old_times[0].tv_sec = old_times[1].tv_sec = time (NULL) - PL_MAILDIR_TMP_MAX_AGE - 60;
  old_times[0].tv_nsec = old_times[1].tv_nsec = 0;
  g_assert_cmpint (utimensat (AT_FDCWD, old_file, old_times, 0), ==, 0);

  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, 0);
  g_assert_false (g_file_test (old_file, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (young_file, G_FILE_TEST_EXISTS));
}

static void
test_lock (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(PlMaildrop) first = NULL;
  g_autoptr(PlMaildrop) second = NULL;
  g_autoptr(GError) error = NULL;

  first = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pl_maildrop_get_user (first), ==, "bob");

  second = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED);
  g_assert_null (second);
  g_clear_error (&error);

  /* Delivery is lock-free, but the open session keeps its snapshot. */
  deliver_text (fixture->store, "bob", "late\n");
  g_assert_cmpuint (pl_maildrop_get_n_messages (first), ==, 0);

  pl_maildrop_close (first);
  second = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (second), ==, 1);

  /* Dropping the last reference also unlocks. */
  g_clear_object (&second);
  second = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
}

/* Two store objects over one folder (two servers) exclude each other too. */
static void
test_lock_two_stores (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(PlMailStore) other = NULL;
  g_autoptr(PlMaildrop) first = NULL;
  g_autoptr(PlMaildrop) second = NULL;
  g_autoptr(GError) error = NULL;

  other = pl_maildir_store_new (fixture->root, &error);
  g_assert_no_error (error);
  first = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  second = pl_mail_store_open_maildrop (other, "bob", &error);
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED);
}

#define CHILD_EXPECT "POSTLAB_TEST_EXPECT"
#define CHILD_ROOT   "POSTLAB_TEST_ROOT"

/* flock() also shuts out another process: the child tries while the parent holds the lock. */
static void
test_lock_other_process (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;

  if (g_test_subprocess ())
    {
      g_autoptr(PlMailStore) store = pl_maildir_store_new (g_getenv (CHILD_ROOT), &error);
      g_autoptr(PlMaildrop) child_drop = NULL;

      g_assert_no_error (error);
      child_drop = pl_mail_store_open_maildrop (store, "bob", &error);
      if (g_strcmp0 (g_getenv (CHILD_EXPECT), "locked") == 0)
        {
          g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED);
          g_print ("child: locked\n");
        }
      else
        {
          g_assert_no_error (error);
          g_assert_nonnull (child_drop);
          g_print ("child: opened\n");
        }
      return;
    }

  g_setenv (CHILD_ROOT, fixture->root, TRUE);
  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);

  g_setenv (CHILD_EXPECT, "locked", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*child: locked*");

  pl_maildrop_close (drop);
  g_setenv (CHILD_EXPECT, "free", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*child: opened*");

  g_unsetenv (CHILD_EXPECT);
  g_unsetenv (CHILD_ROOT);
}

static void
test_expunge (Fixture       *fixture,
              gconstpointer  data)
{
  static const char * const texts[] = { "a\n", "b\n", "c\n", "d\n" };
  const guint doomed[] = { 0, 2 };
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid_b = NULL;
  g_autofree char *uid_d = NULL;
  g_auto(GStrv) names = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    deliver_text (fixture->store, "bob", texts[i]);
  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  uid_b = g_strdup (pl_maildrop_get_message (drop, 1)->uid);
  uid_d = g_strdup (pl_maildrop_get_message (drop, 3)->uid);

  g_assert_true (pl_maildrop_expunge (drop, doomed, G_N_ELEMENTS (doomed), &error));
  g_assert_no_error (error);
  names = list_dir (fixture, "bob", "new");
  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_clear_object (&drop);

  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, 2);
  /* RFC 1939 section 7: UIDs survive across sessions. */
  g_assert_cmpstr (pl_maildrop_get_message (drop, 0)->uid, ==, uid_b);
  g_assert_cmpstr (pl_maildrop_get_message (drop, 1)->uid, ==, uid_d);
  {
    g_autoptr(GBytes) bytes = pl_maildrop_read (drop, 1, &error);

    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "d\r\n", 3);
  }
}

/* A file removed behind our back: read says so (no crash); expunge is content. */
static void
test_vanished (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  const guint all[] = { 0, 1 };

  deliver_text (fixture->store, "bob", "first\n");
  deliver_text (fixture->store, "bob", "second\n");
  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);

  path = new_message_path (fixture, "bob", 0);
  {
    g_autofree char *contents = read_file (path);

    if (g_str_equal (contents, "second\n"))
      {
        g_free (path);
        path = new_message_path (fixture, "bob", 1);
      }
  }
  g_assert_cmpint (g_unlink (path), ==, 0);

  bytes = pl_maildrop_read (drop, 0, &error);
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_MESSAGE);
  g_assert_null (bytes);
  g_clear_error (&error);

  bytes = pl_maildrop_read (drop, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 8);

  g_assert_true (pl_maildrop_expunge (drop, all, G_N_ELEMENTS (all), &error));
  g_assert_no_error (error);
  g_clear_object (&drop);
  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, 0);
}

/* A file another program moved to cur/ and flagged is still found by its base name. */
static void
test_moved (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *moved = NULL;
  g_auto(GStrv) names = NULL;
  const guint first[] = { 0 };

  deliver_text (fixture->store, "bob", "moving\n");
  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);

  names = list_dir (fixture, "bob", "new");
  path = new_message_path (fixture, "bob", 0);
  moved = g_strdup_printf ("%s/mail/bob/cur/%s:2,S", fixture->root, names[0]);
  g_assert_cmpint (g_rename (path, moved), ==, 0);

  bytes = pl_maildrop_read (drop, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "moving\r\n", 8);

  g_assert_true (pl_maildrop_expunge (drop, first, 1, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (moved, G_FILE_TEST_EXISTS));
}

/* Files other programs wrote: no W=, flags, dot-files, folders, long names. */
static void
test_foreign_files (Fixture       *fixture,
                    gconstpointer  data)
{
  static const struct {
    const char *subdir;
    const char *name;
    const char *contents;
  } files[] = {
    { "cur", "1700000300.P77Q2.host:2,S", "third\n" },
    { "new", "1700000100.M5P77.host", "first\n" },
    { "new", "1700000200.M10P77.host,S=7", "second\r\n" },
    { "new", ".hidden", "not a message\n" },
    { "cur", "1700000400.M1P1.a-host-name-so-long-that-the-base-name-is-longer-than-seventy:2,RS",
      "fourth\n" },
    { "new", "mutt-written-no-time", "fifth\n" },
  };
  static const struct {
    const char *read;
    const char *uid;           /* NULL: hashed */
  } expected[] = {
    { "first\r\n",  "1700000100.M5P77.host" },
    { "second\r\n", "1700000200.M10P77.host" },
    { "third\r\n",  "1700000300.P77Q2.host" },
    { "fourth\r\n", NULL },
    { "fifth\r\n",  "mutt-written-no-time" },
  };
  g_autofree char *maildir = pl_maildir_store_dup_maildir (PL_MAILDIR_STORE (fixture->store), "bob");
  g_autofree char *subfolder = g_build_filename (maildir, "cur", "a-folder", NULL);
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (maildir, files[i].subdir, files[i].name, NULL);

      write_file (path, files[i].contents);
    }
  g_assert_cmpint (g_mkdir (subfolder, 0700), ==, 0);

  drop = pl_mail_store_open_maildrop (fixture->store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const PlMessageInfo *info = pl_maildrop_get_message (drop, i);
      g_autoptr(GBytes) bytes = pl_maildrop_read (drop, i, &error);

      g_test_message ("message %u", i + 1);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                       expected[i].read, strlen (expected[i].read));
      g_assert_cmpuint (info->size, ==, strlen (expected[i].read));
      if (expected[i].uid != NULL)
        g_assert_cmpstr (info->uid, ==, expected[i].uid);
      else
        g_assert_cmpuint (strlen (info->uid), ==, 40);
    }
  g_assert_cmpint (g_rmdir (subfolder), ==, 0);
}

static void
test_name_parse (void)
{
  static const struct {
    const char *filename;
    const char *base;
    const char *flags;
    guint64     seconds;
    guint64     usec;
    guint64     counter;
    gint64      vsize;
  } cases[] = {
    { "1713085920.M123456P4242Q7.mail.b.example,S=480,W=498",
      "1713085920.M123456P4242Q7.mail.b.example", NULL, 1713085920, 123456, 7, 498 },
    { "1713085920.M5P1Q10.h,S=480,W=498:2,RS",
      "1713085920.M5P1Q10.h", "RS", 1713085920, 5, 10, 498 },
    { "1035478339.27041_118.foo.org:2,", "1035478339.27041_118.foo.org", "", 1035478339, 0, 0, -1 },
    { "1.P1.h,W=12x", "1.P1.h", NULL, 1, 0, 0, -1 },
    { "plain", "plain", NULL, G_MAXUINT64, 0, 0, -1 },
    { "99999999999999999999999.x", "99999999999999999999999.x", NULL, G_MAXUINT64, 0, 0, -1 },
    { "", "", NULL, G_MAXUINT64, 0, 0, -1 },
    { ":2,S", "", "S", G_MAXUINT64, 0, 0, -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PlMaildirName name;

      g_test_message ("case %u: %s", i, cases[i].filename);
      pl_maildir_name_parse (cases[i].filename, &name);
      g_assert_cmpstr (name.base, ==, cases[i].base);
      g_assert_cmpstr (name.flags, ==, cases[i].flags);
      g_assert_cmpuint (name.seconds, ==, cases[i].seconds);
      g_assert_cmpuint (name.usec, ==, cases[i].usec);
      g_assert_cmpuint (name.counter, ==, cases[i].counter);
      g_assert_cmpint (name.vsize, ==, cases[i].vsize);
      pl_maildir_name_clear (&name);
    }
}

static void
test_unknown_user (Fixture       *fixture,
                   gconstpointer  data)
{
  static const char * const users[] = { "mallory", "../x", "/etc", ".hidden", "..", "bob/../bob", "" };
  g_autofree char *escaped = g_build_filename (fixture->root, "x", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autoptr(PlMaildrop) drop = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("case %u: %s", i, users[i]);
      g_assert_false (pl_mail_store_has_user (fixture->store, users[i]));
      g_assert_false (pl_mail_store_check_password (fixture->store, users[i], "hungry"));
      drop = pl_mail_store_open_maildrop (fixture->store, users[i], &error);
      g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_USER);
      g_assert_null (drop);
      g_clear_error (&error);
      g_assert_false (pl_mail_store_deliver (fixture->store, users[i], (const guint8 *) "x\n", 2, &error));
      g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_USER);
    }
  g_assert_false (g_file_test (escaped, G_FILE_TEST_EXISTS));
}

/* A user written into the users file by hand gets a Maildir on first use. */
static void
test_user_without_maildir (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *users = g_build_filename (fixture->root, "users", NULL);
  g_autoptr(PlMailStore) store = NULL;
  g_autoptr(PlMaildrop) drop = NULL;
  g_autoptr(GError) error = NULL;

  write_file (users, "bob:hungry\ncarol:pw\n");
  store = pl_maildir_store_new (fixture->root, &error);
  g_assert_no_error (error);
  drop = pl_mail_store_open_maildrop (store, "carol", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, 0);
  g_clear_object (&drop);
  deliver_text (store, "carol", "hello\n");
  drop = pl_mail_store_open_maildrop (store, "carol", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_maildrop_get_n_messages (drop), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  static const struct {
    const char *path;
    void (*func) (Fixture *, gconstpointer);
  } fixture_tests[] = {
    { "/store/maildir/users/good", test_users_good },
    { "/store/maildir/users/bad", test_users_bad },
    { "/store/maildir/users/nul", test_users_nul },
    { "/store/maildir/add-user", test_add_user },
    { "/store/maildir/add-user-refused", test_add_user_refused },
    { "/store/maildir/deliver", test_deliver },
    { "/store/maildir/deliver-write-error", test_deliver_write_error },
    { "/store/maildir/deliver-broken-maildir", test_deliver_broken_maildir },
    { "/store/maildir/sizes", test_sizes },
    { "/store/maildir/order", test_order },
    { "/store/maildir/clean-tmp", test_clean_tmp },
    { "/store/maildir/lock", test_lock },
    { "/store/maildir/lock-two-stores", test_lock_two_stores },
    { "/store/maildir/lock-other-process", test_lock_other_process },
    { "/store/maildir/expunge", test_expunge },
    { "/store/maildir/vanished", test_vanished },
    { "/store/maildir/moved", test_moved },
    { "/store/maildir/foreign-files", test_foreign_files },
    { "/store/maildir/unknown-user", test_unknown_user },
    { "/store/maildir/user-without-maildir", test_user_without_maildir },
  };

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (fixture_tests); i++)
    g_test_add (fixture_tests[i].path, Fixture, NULL,
                fixture_set_up, fixture_tests[i].func, fixture_tear_down);
  g_test_add_func ("/store/maildir/users/missing", test_users_missing);
  g_test_add_func ("/store/maildir/name-parse", test_name_parse);

  return g_test_run ();
}
