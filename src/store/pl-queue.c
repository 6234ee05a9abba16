/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlQueue: a sending server's mail queue on disk, each message with its envelope, durable like delivery. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-queue.h"
#include "pl-store-util-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first line of every queue file: what it is, and which layout. */
#define QUEUE_MAGIC "X-Postlab-Queue: 1"
#define ID_MAX 64
/* An envelope bigger than this is not one of ours (at most 100 recipients of 256 octets, with errors). */
#define HEADER_MAX (512 * 1024)

struct _PlQueue
{
  GObject  parent_instance;

  char    *folder;
  char    *tmp_path;
  char    *messages_path;
  int      lock_fd;
  guint    n_cleaned;
};

G_DEFINE_FINAL_TYPE (PlQueue, pl_queue, G_TYPE_OBJECT)

static guint tmp_counter;
static guint id_counter;

/* Entries ------------------------------------------------------------------------------------ */

static void
recipient_free (PlQueueRecipient *recipient)
{
  g_free (recipient->address);
  g_free (recipient->last_error);
  g_free (recipient);
}

static PlQueueEntry *
entry_new (void)
{
  PlQueueEntry *entry = g_new0 (PlQueueEntry, 1);

  entry->ref_count = 1;
  entry->recipients = g_ptr_array_new_with_free_func ((GDestroyNotify) recipient_free);
  return entry;
}

PlQueueEntry *
pl_queue_entry_ref (PlQueueEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);
  g_atomic_int_inc (&entry->ref_count);
  return entry;
}

void
pl_queue_entry_unref (PlQueueEntry *entry)
{
  g_return_if_fail (entry != NULL);
  if (!g_atomic_int_dec_and_test (&entry->ref_count))
    return;
  g_free (entry->id);
  g_free (entry->sender);
  g_ptr_array_unref (entry->recipients);
  g_free (entry->last_error);
  g_clear_pointer (&entry->message, g_bytes_unref);
  g_free (entry);
}

G_DEFINE_BOXED_TYPE (PlQueueEntry, pl_queue_entry, pl_queue_entry_ref, pl_queue_entry_unref)

/* What goes on one line of the envelope: no control characters, valid UTF-8. */
static char *
one_line (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  for (char *p = valid; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7F)
      *p = ' ';
  return g_strdup (g_strstrip (valid));
}

PlQueueRecipient *
pl_queue_entry_find_recipient (PlQueueEntry *entry,
                               const char   *address)
{
  g_return_val_if_fail (entry != NULL, NULL);
  g_return_val_if_fail (address != NULL, NULL);

  for (guint i = 0; i < entry->recipients->len; i++)
    {
      PlQueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);

      if (g_str_equal (recipient->address, address))
        return recipient;
    }
  return NULL;
}

void
pl_queue_entry_add_recipient (PlQueueEntry *entry,
                              const char   *address)
{
  PlQueueRecipient *recipient;

  g_return_if_fail (entry != NULL);
  g_return_if_fail (address != NULL);

  if (pl_queue_entry_find_recipient (entry, address) != NULL)
    return;
  recipient = g_new0 (PlQueueRecipient, 1);
  recipient->address = one_line (address);
  g_ptr_array_add (entry->recipients, recipient);
}

gboolean
pl_queue_entry_remove_recipient (PlQueueEntry *entry,
                                 const char   *address)
{
  PlQueueRecipient *recipient;

  g_return_val_if_fail (entry != NULL, FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  recipient = pl_queue_entry_find_recipient (entry, address);
  return recipient != NULL && g_ptr_array_remove (entry->recipients, recipient);
}

void
pl_queue_entry_set_recipient_error (PlQueueEntry *entry,
                                    const char   *address,
                                    const char   *reason)
{
  PlQueueRecipient *recipient;

  g_return_if_fail (entry != NULL);
  g_return_if_fail (address != NULL);

  recipient = pl_queue_entry_find_recipient (entry, address);
  if (recipient == NULL)
    return;
  g_free (recipient->last_error);
  recipient->last_error = reason != NULL ? one_line (reason) : NULL;
}

void
pl_queue_entry_set_last_error (PlQueueEntry *entry,
                               const char   *reason)
{
  g_return_if_fail (entry != NULL);

  g_free (entry->last_error);
  entry->last_error = reason != NULL ? one_line (reason) : NULL;
}

/* The file ------------------------------------------------------------------------------------- */

static char *
format_time (gint64 usec)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  if (when == NULL)
    return g_strdup ("?");
  return g_date_time_format (when, "%Y-%m-%d %H:%M:%S UTC");
}

/*
 * The envelope as text a person can read with `cat` (the queue is part of
 * the lesson: this is what "store and forward" stores), then a blank line,
 * then the message exactly as it was received.
 */
static GBytes *
serialize (const PlQueueEntry *entry)
{
  GString *out = g_string_new (QUEUE_MAGIC "\n");
  g_autofree char *queued = format_time (entry->queued_time);
  gsize len;
  const guint8 *message = g_bytes_get_data (entry->message, &len);

  g_string_append_printf (out, "Id: %s\n", entry->id);
  g_string_append_printf (out, "Queued: %" G_GINT64_FORMAT " (%s)\n", entry->queued_time, queued);
  g_string_append_printf (out, "Sender: <%s>\n", entry->sender);
  for (guint i = 0; i < entry->recipients->len; i++)
    {
      PlQueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);

      g_string_append_printf (out, "Recipient: <%s>\n", recipient->address);
      if (recipient->last_error != NULL)
        g_string_append_printf (out, "Recipient-Error: %s\n", recipient->last_error);
    }
  g_string_append_printf (out, "Attempts: %u\n", entry->attempts);
  if (entry->next_attempt > 0)
    {
      g_autofree char *next = format_time (entry->next_attempt);

      g_string_append_printf (out, "Next-Attempt: %" G_GINT64_FORMAT " (%s)\n", entry->next_attempt, next);
    }
  else
    g_string_append (out, "Next-Attempt: 0 (as soon as possible)\n");
  if (entry->last_error != NULL)
    g_string_append_printf (out, "Last-Error: %s\n", entry->last_error);
  g_string_append_c (out, '\n');
  g_string_append_len (out, (const char *) message, (gssize) len);
  return g_string_free_to_bytes (out);
}

static gboolean
invalid (GError     **error,
         const char  *path,
         guint        line,
         const char  *what)
{
  if (line > 0)
    g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                 "%s:%u: %s (not a Postlab queue file?)", path, line, what);
  else
    g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                 "%s: %s (not a Postlab queue file?)", path, what);
  return FALSE;
}

static gboolean
parse_int64 (const char *text,
             gint64     *out)
{
  char *end = NULL;
  gint64 value;

  errno = 0;
  value = g_ascii_strtoll (text, &end, 10);
  if (end == text || errno != 0 || value < 0 || (*end != '\0' && *end != ' '))
    return FALSE;
  *out = value;
  return TRUE;
}

/* "<address>" -> "address"; NULL when the brackets are missing. */
static char *
unbracket (const char *text)
{
  gsize len = strlen (text);

  if (len < 2 || text[0] != '<' || text[len - 1] != '>')
    return NULL;
  return g_strndup (text + 1, len - 2);
}

static gboolean
id_is_valid (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > ID_MAX || id[0] == '.')
    return FALSE;
  for (const char *p = id; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static PlQueueEntry *
parse (const char    *path,
       GBytes        *contents,
       GError       **error)
{
  g_autoptr(PlQueueEntry) entry = entry_new ();
  gsize len;
  const char *data = g_bytes_get_data (contents, &len);
  const char *end = data + len;
  const char *p = data;
  const char *header_end = NULL;
  PlQueueRecipient *last_recipient = NULL;
  gboolean seen_queued = FALSE, seen_attempts = FALSE;
  guint lineno = 0;

  /* The envelope ends at the first empty line. */
  for (const char *q = data; q < end && q < data + HEADER_MAX; )
    {
      const char *nl = memchr (q, '\n', (gsize) (end - q));

      if (nl == NULL)
        break;
      if (nl == q)
        {
          header_end = q;
          break;
        }
      q = nl + 1;
    }
  if (header_end == NULL)
    return invalid (error, path, 0, "no blank line after the envelope"), NULL;
  if (memchr (data, '\0', (gsize) (header_end - data)) != NULL)
    return invalid (error, path, 0, "a NUL byte in the envelope"), NULL;

  while (p < header_end)
    {
      const char *nl = memchr (p, '\n', (gsize) (header_end - p + 1));
      g_autofree char *line = g_strndup (p, (gsize) (nl - p));
      const char *colon;
      const char *value;

      lineno++;
      p = nl + 1;
      if (lineno == 1)
        {
          if (!g_str_equal (line, QUEUE_MAGIC))
            return invalid (error, path, lineno, "the first line is not \"" QUEUE_MAGIC "\""), NULL;
          continue;
        }
      colon = strstr (line, ": ");
      if (colon == NULL)
        return invalid (error, path, lineno, "expected \"Field: value\""), NULL;
      value = colon + 2;

      if (g_str_has_prefix (line, "Id: "))
        {
          if (!id_is_valid (value))
            return invalid (error, path, lineno, "a bad Id"), NULL;
          g_free (entry->id);
          entry->id = g_strdup (value);
        }
      else if (g_str_has_prefix (line, "Queued: "))
        {
          if (!parse_int64 (value, &entry->queued_time))
            return invalid (error, path, lineno, "Queued: is not a time"), NULL;
          seen_queued = TRUE;
        }
      else if (g_str_has_prefix (line, "Sender: "))
        {
          g_free (entry->sender);
          entry->sender = unbracket (value);
          if (entry->sender == NULL)
            return invalid (error, path, lineno, "Sender: is not <address>"), NULL;
        }
      else if (g_str_has_prefix (line, "Recipient: "))
        {
          g_autofree char *address = unbracket (value);

          if (address == NULL || *address == '\0')
            return invalid (error, path, lineno, "Recipient: is not <address>"), NULL;
          pl_queue_entry_add_recipient (entry, address);
          last_recipient = pl_queue_entry_find_recipient (entry, address);
        }
      else if (g_str_has_prefix (line, "Recipient-Error: "))
        {
          if (last_recipient == NULL)
            return invalid (error, path, lineno, "Recipient-Error: without a Recipient: before it"), NULL;
          g_free (last_recipient->last_error);
          last_recipient->last_error = g_strdup (value);
        }
      else if (g_str_has_prefix (line, "Attempts: "))
        {
          gint64 attempts;

          if (!parse_int64 (value, &attempts) || attempts > G_MAXUINT)
            return invalid (error, path, lineno, "Attempts: is not a number"), NULL;
          entry->attempts = (guint) attempts;
          seen_attempts = TRUE;
        }
      else if (g_str_has_prefix (line, "Next-Attempt: "))
        {
          if (!parse_int64 (value, &entry->next_attempt))
            return invalid (error, path, lineno, "Next-Attempt: is not a time"), NULL;
        }
      else if (g_str_has_prefix (line, "Last-Error: "))
        {
          g_free (entry->last_error);
          entry->last_error = g_strdup (value);
        }
      /* Other fields: a later layout may add some; they are not ours to refuse. */
    }

  if (entry->id == NULL || entry->sender == NULL || !seen_queued || !seen_attempts)
    return invalid (error, path, 0, "the envelope lacks Id, Queued, Sender or Attempts"), NULL;
  entry->message = g_bytes_new_from_bytes (contents, (gsize) (header_end + 1 - data),
                                           (gsize) (end - (header_end + 1)));
  return g_steal_pointer (&entry);
}

PlQueueEntry *
pl_queue_read_entry (const char  *path,
                     GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) contents = NULL;
  char *data = NULL;
  gsize len;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &data, &len, &local_error))
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO, "%s", local_error->message);
      return NULL;
    }
  contents = g_bytes_new_take (data, len);
  return parse (path, contents, error);
}

/* The queue ---------------------------------------------------------------------------------- */

static void
pl_queue_finalize (GObject *object)
{
  PlQueue *self = PL_QUEUE (object);

  if (self->lock_fd >= 0)
    close (self->lock_fd);  /* releases the flock */
  g_free (self->folder);
  g_free (self->tmp_path);
  g_free (self->messages_path);
  G_OBJECT_CLASS (pl_queue_parent_class)->finalize (object);
}

static void
pl_queue_class_init (PlQueueClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pl_queue_finalize;
}

static void
pl_queue_init (PlQueue *self)
{
  self->lock_fd = -1;
}

static gboolean
make_dir (const char  *path,
          GError     **error)
{
  if (g_mkdir_with_parents (path, 0700) != 0)
    {
      pl_store_set_io_error (error, errno, "Cannot create folder", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
take_lock (PlQueue  *self,
           GError  **error)
{
  g_autofree char *path = g_build_filename (self->folder, "lock", NULL);

  do
    self->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  while (self->lock_fd < 0 && errno == EINTR);
  if (self->lock_fd < 0)
    {
      pl_store_set_io_error (error, errno, "Cannot open", path);
      return FALSE;
    }
  if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == EWOULDBLOCK)
        g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED,
                     "The queue %s is in use by another program (another postlab-cli serve "
                     "on this data folder?)", self->folder);
      else
        pl_store_set_io_error (error, saved_errno, "Cannot lock", path);
      return FALSE;
    }
  return TRUE;
}

/* Nothing in tmp/ was ever acknowledged: whatever a crash left there goes. */
static gboolean
clean_tmp (PlQueue  *self,
           GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) dir = g_dir_open (self->tmp_path, 0, &local_error);
  const char *name;

  if (dir == NULL)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO, "%s", local_error->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (self->tmp_path, name, NULL);

      if (unlink (path) == 0)
        self->n_cleaned++;
      else
        g_warning ("Cannot remove the partial queue file %s: %s", path, g_strerror (errno));
    }
  return self->n_cleaned == 0 || pl_store_fsync_dir (self->tmp_path, error);
}

PlQueue *
pl_queue_new (const char  *folder,
              GError     **error)
{
  g_autoptr(PlQueue) self = NULL;

  g_return_val_if_fail (folder != NULL && folder[0] != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (PL_TYPE_QUEUE, NULL);
  self->folder = g_canonicalize_filename (folder, NULL);
  self->tmp_path = g_build_filename (self->folder, "tmp", NULL);
  self->messages_path = g_build_filename (self->folder, "messages", NULL);

  if (!make_dir (self->tmp_path, error) || !make_dir (self->messages_path, error))
    return NULL;
  if (!take_lock (self, error))
    return NULL;
  if (!clean_tmp (self, error))
    return NULL;
  /* The folders themselves may be new: make their names durable too. */
  if (!pl_store_fsync_dir (self->folder, error))
    return NULL;
  return g_steal_pointer (&self);
}

const char *
pl_queue_get_folder (PlQueue *self)
{
  g_return_val_if_fail (PL_IS_QUEUE (self), NULL);
  return self->folder;
}

guint
pl_queue_get_n_cleaned (PlQueue *self)
{
  g_return_val_if_fail (PL_IS_QUEUE (self), 0);
  return self->n_cleaned;
}

char *
pl_queue_make_id (void)
{
  gint64 now = g_get_real_time ();
  guint counter = (guint) g_atomic_int_add (&id_counter, 1);

  return g_strdup_printf ("%013" G_GINT64_MODIFIER "X%04X", now, counter & 0xFFFF);
}

/*
 * Writes @entry to tmp/, fsyncs it and renames it to messages/ID (over an
 * older version, for an update), then fsyncs messages/. When this returns
 * TRUE the entry survives a crash; when it returns FALSE nothing new is
 * left behind.
 */
static gboolean
write_entry (PlQueue       *self,
             PlQueueEntry  *entry,
             GError       **error)
{
  g_autoptr(GBytes) bytes = serialize (entry);
  g_autofree char *tmp_name = g_strdup_printf ("%s.%d.%u", entry->id, (int) getpid (),
                                               (guint) g_atomic_int_add (&tmp_counter, 1));
  g_autofree char *tmp_path = g_build_filename (self->tmp_path, tmp_name, NULL);
  g_autofree char *final_path = g_build_filename (self->messages_path, entry->id, NULL);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  int fd;

  do
    fd = open (tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      pl_store_set_io_error (error, errno, "Cannot create", tmp_path);
      return FALSE;
    }
  if (!pl_store_write_all (fd, data, len) || fsync (fd) != 0)
    {
      int saved_errno = errno;

      close (fd);
      unlink (tmp_path);
      pl_store_set_io_error (error, saved_errno, "Cannot write", tmp_path);
      return FALSE;
    }
  if (close (fd) != 0)
    {
      int saved_errno = errno;

      unlink (tmp_path);
      pl_store_set_io_error (error, saved_errno, "Cannot write", tmp_path);
      return FALSE;
    }
  if (rename (tmp_path, final_path) != 0)
    {
      int saved_errno = errno;

      unlink (tmp_path);
      pl_store_set_io_error (error, saved_errno, "Cannot move the queue file to", final_path);
      return FALSE;
    }
  return pl_store_fsync_dir (self->messages_path, error);
}

PlQueueEntry *
pl_queue_add (PlQueue            *self,
              const char         *id,
              const char         *sender,
              const char *const  *recipients,
              GBytes             *message,
              gint64              now,
              GError            **error)
{
  g_autoptr(PlQueueEntry) entry = NULL;

  g_return_val_if_fail (PL_IS_QUEUE (self), NULL);
  g_return_val_if_fail (sender != NULL, NULL);
  g_return_val_if_fail (recipients != NULL && recipients[0] != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  entry = entry_new ();
  for (guint attempt = 0; entry->id == NULL; attempt++)
    {
      g_autofree char *candidate = NULL;
      g_autofree char *path = NULL;

      if (attempt == 0 && id != NULL && id_is_valid (id))
        candidate = g_strdup (id);
      else if (attempt < 2 && id != NULL && id_is_valid (id) && strlen (id) < ID_MAX - 6)
        candidate = g_strdup_printf ("%s.%u", id, (guint) g_random_int_range (1, 99999));
      else
        candidate = pl_queue_make_id ();
      path = g_build_filename (self->messages_path, candidate, NULL);
      /* The queue is ours alone (flock), so nobody takes the name between here and the rename. */
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        entry->id = g_steal_pointer (&candidate);
    }
  entry->sender = one_line (sender);
  for (guint i = 0; recipients[i] != NULL; i++)
    pl_queue_entry_add_recipient (entry, recipients[i]);
  entry->queued_time = now;
  entry->message = g_bytes_ref (message);

  if (!write_entry (self, entry, error))
    return NULL;
  return g_steal_pointer (&entry);
}

gboolean
pl_queue_update (PlQueue       *self,
                 PlQueueEntry  *entry,
                 GError       **error)
{
  g_return_val_if_fail (PL_IS_QUEUE (self), FALSE);
  g_return_val_if_fail (entry != NULL && entry->id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (entry->recipients->len == 0)
    return pl_queue_remove (self, entry, error);
  return write_entry (self, entry, error);
}

gboolean
pl_queue_remove (PlQueue       *self,
                 PlQueueEntry  *entry,
                 GError       **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (PL_IS_QUEUE (self), FALSE);
  g_return_val_if_fail (entry != NULL && entry->id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  path = g_build_filename (self->messages_path, entry->id, NULL);
  if (unlink (path) != 0 && errno != ENOENT)
    {
      pl_store_set_io_error (error, errno, "Cannot remove", path);
      return FALSE;
    }
  return pl_store_fsync_dir (self->messages_path, error);
}

static gint
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const PlQueueEntry *x = *(PlQueueEntry *const *) a;
  const PlQueueEntry *y = *(PlQueueEntry *const *) b;

  if (x->queued_time != y->queued_time)
    return x->queued_time < y->queued_time ? -1 : 1;
  return strcmp (x->id, y->id);
}

GPtrArray *
pl_queue_list (PlQueue  *self,
               GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  const char *name;

  g_return_val_if_fail (PL_IS_QUEUE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  dir = g_dir_open (self->messages_path, 0, &local_error);
  if (dir == NULL)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO, "%s", local_error->message);
      return NULL;
    }
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_queue_entry_unref);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (self->messages_path, name, NULL);
      g_autoptr(GError) entry_error = NULL;
      PlQueueEntry *entry;

      if (!id_is_valid (name))
        continue;
      entry = pl_queue_read_entry (path, &entry_error);
      if (entry == NULL)
        {
          g_warning ("Skipping a queue file: %s", entry_error->message);
          continue;
        }
      if (!g_str_equal (entry->id, name) || entry->recipients->len == 0)
        {
          g_warning ("Skipping the queue file %s: %s", path,
                     entry->recipients->len == 0 ? "it has no recipients" : "its Id is not its name");
          pl_queue_entry_unref (entry);
          continue;
        }
      g_ptr_array_add (entries, entry);
    }
  g_ptr_array_sort (entries, compare_entries);
  return g_steal_pointer (&entries);
}
