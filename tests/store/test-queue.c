/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlQueue: envelopes written and read back, atomic updates, the lock, partial files, SIGKILL at any moment. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "pl-queue.h"

static const char message_text[] =
  "Received: from alice-laptop ([127.0.0.1])\r\n\tby mail.a.example (Postlab) with ESMTPA id 1;\r\n"
  "\tMon, 14 Apr 2025 11:02:17 +0000\r\n"
  "From: Alice <alice@a.example>\r\n"
  "To: Bob <bob@b.example>\r\n"
  "Subject: Lunch?\r\n"
  "\r\n"
  "A body with a NUL-free but odd line:\r\n"
  "\r\n"
  "\r\n"
  "Recipient: <not@an.envelope>\r\n"
  ".\r\n";

typedef struct {
  char *folder;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("postlab-queue-XXXXXX", &error);

  g_assert_no_error (error);
  f->folder = g_build_filename (tmp, "queue", NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR))
            remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *parent = g_path_get_dirname (f->folder);

  remove_tree (parent);
  g_free (f->folder);
}

static GBytes *
message (void)
{
  return g_bytes_new_static (message_text, sizeof message_text - 1);
}

static guint
count_files (const char *folder,
             const char *sub)
{
  g_autofree char *path = g_build_filename (folder, sub, NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
test_add_and_list (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlQueue) queue = pl_queue_new (f->folder, &error);
  g_autoptr(GBytes) text = message ();
  const char *const recipients[] = { "bob@b.example", "\"odd > name\"@b.example", NULL };
  g_autoptr(PlQueueEntry) entry = NULL;
  g_autoptr(GPtrArray) listed = NULL;
  g_autofree char *path = NULL;
  g_autofree char *on_disk = NULL;
  PlQueueEntry *back;

  g_assert_no_error (error);
  entry = pl_queue_add (queue, "18F0A1B2C3D4E0001", "alice@a.example", recipients, text,
                        1744628537000000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (entry->id, ==, "18F0A1B2C3D4E0001");
  g_assert_cmpuint (entry->recipients->len, ==, 2);
  g_assert_cmpuint (entry->attempts, ==, 0);
  g_assert_cmpint (entry->next_attempt, ==, 0);

  /* A person can read the envelope with cat. */
  path = g_build_filename (f->folder, "messages", entry->id, NULL);
  g_assert_true (g_file_get_contents (path, &on_disk, NULL, NULL));
  g_assert_true (g_str_has_prefix (on_disk, "X-Postlab-Queue: 1\nId: 18F0A1B2C3D4E0001\n"
                                            "Queued: 1744628537000000 (2025-04-14 11:02:17 UTC)\n"
                                            "Sender: <alice@a.example>\n"
                                            "Recipient: <bob@b.example>\n"
                                            "Recipient: <\"odd > name\"@b.example>\n"
                                            "Attempts: 0\n"));
  g_assert_cmpuint (count_files (f->folder, "tmp"), ==, 0);

  listed = pl_queue_list (queue, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (listed->len, ==, 1);
  back = g_ptr_array_index (listed, 0);
  g_assert_cmpstr (back->id, ==, entry->id);
  g_assert_cmpstr (back->sender, ==, "alice@a.example");
  g_assert_cmpuint (back->recipients->len, ==, 2);
  g_assert_cmpstr (((PlQueueRecipient *) g_ptr_array_index (back->recipients, 1))->address, ==,
                   "\"odd > name\"@b.example");
  g_assert_cmpint (back->queued_time, ==, 1744628537000000);
  g_assert_true (g_bytes_equal (back->message, text));
}

static void
test_null_sender (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(PlQueue) queue = pl_queue_new (f->folder, NULL);
  g_autoptr(GBytes) text = message ();
  const char *const recipients[] = { "carol@c.example", NULL };
  g_autoptr(PlQueueEntry) entry = pl_queue_add (queue, NULL, "", recipients, text, 1, NULL);
  g_autofree char *path = g_build_filename (f->folder, "messages", entry->id, NULL);
  g_autoptr(PlQueueEntry) back = pl_queue_read_entry (path, NULL);

  g_assert_nonnull (back);
  g_assert_cmpstr (back->sender, ==, "");
  g_assert_cmpuint (strlen (entry->id), ==, 17);
}

static void
test_update (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlQueue) queue = pl_queue_new (f->folder, NULL);
  g_autoptr(GBytes) text = message ();
  const char *const recipients[] = { "bob@b.example", "carol@b.example", "dave@c.example", NULL };
  g_autoptr(PlQueueEntry) entry = pl_queue_add (queue, NULL, "alice@a.example", recipients, text, 5, NULL);
  g_autoptr(GPtrArray) listed = NULL;
  PlQueueEntry *back;
  PlQueueRecipient *carol;

  g_assert_true (pl_queue_entry_remove_recipient (entry, "bob@b.example"));
  g_assert_false (pl_queue_entry_remove_recipient (entry, "bob@b.example"));
  pl_queue_entry_set_recipient_error (entry, "carol@b.example", "451 4.3.0 try\r\nagain later");
  entry->attempts = 2;
  entry->next_attempt = 1744628600000000;
  pl_queue_entry_set_last_error (entry, "connection refused by 127.0.0.1:2526");
  g_assert_true (pl_queue_update (queue, entry, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (f->folder, "messages"), ==, 1);
  g_assert_cmpuint (count_files (f->folder, "tmp"), ==, 0);

  listed = pl_queue_list (queue, &error);
  back = g_ptr_array_index (listed, 0);
  g_assert_cmpuint (back->recipients->len, ==, 2);
  carol = pl_queue_entry_find_recipient (back, "carol@b.example");
  g_assert_nonnull (carol);
  /* One line: the CR LF became spaces. */
  g_assert_cmpstr (carol->last_error, ==, "451 4.3.0 try  again later");
  g_assert_null (pl_queue_entry_find_recipient (back, "dave@c.example")->last_error);
  g_assert_cmpuint (back->attempts, ==, 2);
  g_assert_cmpint (back->next_attempt, ==, 1744628600000000);
  g_assert_cmpstr (back->last_error, ==, "connection refused by 127.0.0.1:2526");
  g_assert_true (g_bytes_equal (back->message, text));

  /* No recipient left: the update removes it. */
  pl_queue_entry_remove_recipient (entry, "carol@b.example");
  pl_queue_entry_remove_recipient (entry, "dave@c.example");
  g_assert_true (pl_queue_update (queue, entry, &error));
  g_assert_cmpuint (count_files (f->folder, "messages"), ==, 0);
}

static void
test_remove (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlQueue) queue = pl_queue_new (f->folder, NULL);
  g_autoptr(GBytes) text = message ();
  const char *const recipients[] = { "bob@b.example", NULL };
  g_autoptr(PlQueueEntry) first = pl_queue_add (queue, NULL, "a@a.example", recipients, text, 2, NULL);
  g_autoptr(PlQueueEntry) second = pl_queue_add (queue, NULL, "b@a.example", recipients, text, 1, NULL);
  g_autoptr(GPtrArray) listed = pl_queue_list (queue, NULL);

  /* Oldest first. */
  g_assert_cmpuint (listed->len, ==, 2);
  g_assert_cmpstr (((PlQueueEntry *) g_ptr_array_index (listed, 0))->id, ==, second->id);
  g_assert_true (pl_queue_remove (queue, first, &error));
  g_assert_no_error (error);
  /* Twice is harmless: the relay may retry a remove that failed half-way. */
  g_assert_true (pl_queue_remove (queue, first, &error));
  g_ptr_array_unref (listed);
  listed = pl_queue_list (queue, NULL);
  g_assert_cmpuint (listed->len, ==, 1);
  g_assert_cmpstr (((PlQueueEntry *) g_ptr_array_index (listed, 0))->id, ==, second->id);
}

static void
test_same_id_twice (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(PlQueue) queue = pl_queue_new (f->folder, NULL);
  g_autoptr(GBytes) text = message ();
  const char *const recipients[] = { "bob@b.example", NULL };
  g_autoptr(PlQueueEntry) first = pl_queue_add (queue, "ABC", "a@a.example", recipients, text, 1, NULL);
  g_autoptr(PlQueueEntry) second = pl_queue_add (queue, "ABC", "a@a.example", recipients, text, 1, NULL);
  g_autoptr(PlQueueEntry) bad = pl_queue_add (queue, "../escape", "a@a.example", recipients, text, 1, NULL);

  g_assert_cmpstr (first->id, ==, "ABC");
  g_assert_cmpstr (second->id, !=, "ABC");
  g_assert_true (g_str_has_prefix (second->id, "ABC."));
  g_assert_null (strchr (bad->id, '/'));
  g_assert_cmpuint (count_files (f->folder, "messages"), ==, 3);
}

static void
test_make_id (void)
{
  g_autofree char *a = pl_queue_make_id ();
  g_autofree char *b = pl_queue_make_id ();

  g_assert_cmpstr (a, !=, b);
  g_assert_cmpuint (strlen (a), ==, 17);
  g_assert_cmpint (strcmp (a, b), <, 0);
  for (const char *p = a; *p != '\0'; p++)
    g_assert_true (g_ascii_isxdigit (*p));
}

static void
test_lock (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlQueue) first = pl_queue_new (f->folder, &error);
  g_autoptr(PlQueue) second = NULL;

  g_assert_no_error (error);
  second = pl_queue_new (f->folder, &error);
  g_assert_null (second);
  g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED);
  g_assert_nonnull (strstr (error->message, "in use by another program"));
  g_clear_error (&error);
  g_clear_object (&first);
  second = pl_queue_new (f->folder, &error);
  g_assert_no_error (error);
}

static void
test_partial_files_cleaned (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(PlQueue) queue = pl_queue_new (f->folder, NULL);
  g_autoptr(GBytes) text = message ();
  const char *const recipients[] = { "bob@b.example", NULL };
  g_autoptr(PlQueueEntry) entry = pl_queue_add (queue, NULL, "a@a.example", recipients, text, 1, NULL);
  g_autofree char *partial = g_build_filename (f->folder, "tmp", "18F0000000000.123.0", NULL);
  g_autoptr(GPtrArray) listed = NULL;

  g_clear_object (&queue);
  /* What a crash in the middle of a write leaves: half an envelope in tmp/. */
  g_assert_true (g_file_set_contents (partial, "X-Postlab-Queue: 1\nId: 18F0", -1, NULL));
  queue = pl_queue_new (f->folder, NULL);
  g_assert_cmpuint (pl_queue_get_n_cleaned (queue), ==, 1);
  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
  listed = pl_queue_list (queue, NULL);
  g_assert_cmpuint (listed->len, ==, 1);
  g_assert_cmpstr (((PlQueueEntry *) g_ptr_array_index (listed, 0))->id, ==, entry->id);
}

static const struct {
  const char *name;
  const char *text;
  const char *message;
} bad_files[] = {
  { "not-ours", "From: someone\n\nhello\n", "BAD:1: the first line is not" },
  { "no-blank-line", "X-Postlab-Queue: 1\nId: BAD\n", "BAD: no blank line after the envelope" },
  { "no-colon", "X-Postlab-Queue: 1\nId BAD\n\nx", "BAD:2: expected \"Field: value\"" },
  { "bad-sender", "X-Postlab-Queue: 1\nId: BAD\nSender: a@b\n\nx", "BAD:3: Sender: is not <address>" },
  { "bad-recipient", "X-Postlab-Queue: 1\nId: BAD\nRecipient: <>\n\nx", "BAD:3: Recipient: is not <address>" },
  { "orphan-error", "X-Postlab-Queue: 1\nId: BAD\nRecipient-Error: 451\n\nx", "BAD:3: Recipient-Error: without" },
  { "bad-attempts", "X-Postlab-Queue: 1\nId: BAD\nAttempts: -1\n\nx", "BAD:3: Attempts: is not a number" },
  { "bad-id", "X-Postlab-Queue: 1\nId: ../x\n\nx", "BAD:2: a bad Id" },
  { "incomplete", "X-Postlab-Queue: 1\nId: BAD\nSender: <a@b>\n\nx", "BAD: the envelope lacks" },
};

static void
test_bad_files (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(PlQueue) queue = pl_queue_new (f->folder, NULL);
  g_autoptr(GBytes) text = message ();
  const char *const recipients[] = { "bob@b.example", NULL };
  G_GNUC_UNUSED g_autoptr(PlQueueEntry) good = pl_queue_add (queue, NULL, "a@a.example", recipients, text, 1, NULL);
  g_autoptr(GPtrArray) listed = NULL;
  g_autofree char *path = g_build_filename (f->folder, "messages", "BAD", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (bad_files); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlQueueEntry) entry = NULL;

      g_test_message ("%s", bad_files[i].name);
      g_assert_true (g_file_set_contents (path, bad_files[i].text, -1, NULL));
      entry = pl_queue_read_entry (path, &error);
      g_assert_null (entry);
      g_assert_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID);
      /* The message names the file by its path: match from its name on. */
      if (strstr (error->message, bad_files[i].message) == NULL)
        g_error ("\"%s\" lacks \"%s\"", error->message, bad_files[i].message);

      /* The queue skips it, warns, and keeps the good entry. */
      g_test_expect_message ("postlab-store", G_LOG_LEVEL_WARNING, "*Skipping a queue file*");
      listed = pl_queue_list (queue, NULL);
      g_test_assert_expected_messages ();
      g_assert_cmpuint (listed->len, ==, 1);
      g_clear_pointer (&listed, g_ptr_array_unref);
      g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
    }
}

/*
 * The promise behind 250: a child process adds and updates entries as fast
 * as it can and says, through a pipe, what each call returned; it is killed
 * with SIGKILL at some moment. Whatever the moment, every entry the child
 * heard "added" for is there, complete, with at least the last update it
 * heard "updated" for, and tmp/ is empty after the next open.
 */
static void
test_sigkill (Fixture       *f,
              gconstpointer  data)
{
  for (guint round = 0; round < 8; round++)
    {
      g_autoptr(GHashTable) added = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr(PlQueue) queue = NULL;
      g_autoptr(GPtrArray) listed = NULL;
      g_autoptr(GString) said = g_string_new (NULL);
      g_auto(GStrv) lines = NULL;
      int fds[2];
      pid_t pid;
      char buffer[4096];
      gssize n;
      int status;

      g_assert_cmpint (pipe (fds), ==, 0);
      pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          g_autoptr(PlQueue) child_queue = NULL;
          g_autoptr(GBytes) text = message ();
          const char *const recipients[] = { "bob@b.example", "carol@b.example", NULL };

          close (fds[0]);
          child_queue = pl_queue_new (f->folder, NULL);
          if (child_queue == NULL)
            _exit (3);
          for (guint i = 0; ; i++)
            {
              PlQueueEntry *entry = pl_queue_add (child_queue, NULL, "alice@a.example", recipients,
                                                  text, g_get_real_time (), NULL);
              char line[128];
              int len;

              if (entry == NULL)
                _exit (4);
              len = g_snprintf (line, sizeof line, "added %s\n", entry->id);
              if (write (fds[1], line, (size_t) len) != len)
                _exit (5);
              entry->attempts = 1;
              pl_queue_entry_set_last_error (entry, "a try");
              if (!pl_queue_update (child_queue, entry, NULL))
                _exit (6);
              len = g_snprintf (line, sizeof line, "updated %s\n", entry->id);
              if (write (fds[1], line, (size_t) len) != len)
                _exit (5);
              pl_queue_entry_unref (entry);
            }
        }
      close (fds[1]);
      g_usleep (10000 + g_random_int_range (0, 60000));
      kill (pid, SIGKILL);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));
      while ((n = read (fds[0], buffer, sizeof buffer)) > 0)
        g_string_append_len (said, buffer, n);
      close (fds[0]);

      lines = g_strsplit (said->str, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          if (g_str_has_prefix (lines[i], "added "))
            g_hash_table_insert (added, g_strdup (lines[i] + 6), GUINT_TO_POINTER (0));
          else if (g_str_has_prefix (lines[i], "updated "))
            g_hash_table_insert (added, g_strdup (lines[i] + 8), GUINT_TO_POINTER (1));
        }

      queue = pl_queue_new (f->folder, NULL);
      g_assert_nonnull (queue);
      g_assert_cmpuint (count_files (f->folder, "tmp"), ==, 0);
      listed = pl_queue_list (queue, NULL);
      /* Each entry acknowledged is there; at most one more (added, not yet said) may be. */
      g_assert_cmpuint (listed->len, >=, g_hash_table_size (added));
      g_assert_cmpuint (listed->len, <=, g_hash_table_size (added) + 1);
      for (guint i = 0; i < listed->len; i++)
        {
          PlQueueEntry *entry = g_ptr_array_index (listed, i);
          gpointer value;

          g_assert_cmpuint (g_bytes_get_size (entry->message), ==, sizeof message_text - 1);
          g_assert_cmpuint (entry->recipients->len, ==, 2);
          if (g_hash_table_lookup_extended (added, entry->id, NULL, &value))
            {
              g_assert_cmpuint (entry->attempts, >=, GPOINTER_TO_UINT (value));
              g_hash_table_remove (added, entry->id);
            }
        }
      g_assert_cmpuint (g_hash_table_size (added), ==, 0);
      g_test_message ("round %u: %u entries", round, listed->len);
      for (guint i = 0; i < listed->len; i++)
        g_assert_true (pl_queue_remove (queue, g_ptr_array_index (listed, i), NULL));
      g_clear_object (&queue);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/queue/add-and-list", test_add_and_list);
  ADD ("/queue/null-sender", test_null_sender);
  ADD ("/queue/update", test_update);
  ADD ("/queue/remove", test_remove);
  ADD ("/queue/same-id-twice", test_same_id_twice);
  ADD ("/queue/lock", test_lock);
  ADD ("/queue/partial-files-cleaned", test_partial_files_cleaned);
  ADD ("/queue/bad-files", test_bad_files);
  ADD ("/queue/sigkill", test_sigkill);
#undef ADD
  g_test_add_func ("/queue/make-id", test_make_id);
  return g_test_run ();
}
