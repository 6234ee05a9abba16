/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMaildirMaildrop: a session's locked snapshot of one user's Maildir. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-maildir-maildrop-private.h"
#include "pl-store-util-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* One message file of the snapshot. */
typedef struct {
  const char    *subdir;     /* "new" or "cur" (static) */
  char          *filename;   /* may change when another program renames it (flags) */
  PlMaildirName  name;
} PlMaildirEntry;

struct _PlMaildirMaildrop
{
  PlMaildrop  parent_instance;

  char       *maildir;
  int         lock_fd;       /* -1 once closed */
  GPtrArray  *entries;       /* of PlMaildirEntry*, in delivery order */
};

G_DEFINE_FINAL_TYPE (PlMaildirMaildrop, pl_maildir_maildrop, PL_TYPE_MAILDROP)

static const char * const maildir_subdirs[] = { "new", "cur" };

static gboolean
parse_decimal (const char  *p,
               const char **end,
               guint64     *value)
{
  guint64 v = 0;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  for (; g_ascii_isdigit (*p); p++)
    {
      if (v > (G_MAXUINT64 - 9) / 10)
        return FALSE;
      v = v * 10 + (guint64) (*p - '0');
    }
  *end = p;
  *value = v;
  return TRUE;
}

/*
 * Reads what the Maildir spec (cr.yp.to/proto/maildir.html) and Dovecot put
 * in a name: "TIME.UNIQUE.HOST" with UNIQUE made of fields like M<usec>,
 * P<pid>, Q<counter>; then ",S=<size>,W=<vsize>" fields; then ":2,FLAGS".
 * Names written by other programs may have none of it; nothing here fails.
 */
void
pl_maildir_name_parse (const char    *filename,
                       PlMaildirName *name)
{
  const char *colon = strchr (filename, ':');
  gsize head_len = colon != NULL ? (gsize) (colon - filename) : strlen (filename);
  g_autofree char *head = g_strndup (filename, head_len);
  g_auto(GStrv) fields = g_strsplit (head, ",", -1);
  const char *p;
  guint64 value;

  memset (name, 0, sizeof *name);
  /* g_strsplit() of "" gives no fields at all. */
  name->base = g_strndup (head, strcspn (head, ","));
  name->vsize = -1;
  name->seconds = G_MAXUINT64;
  if (colon != NULL && g_str_has_prefix (colon, ":2,"))
    name->flags = g_strdup (colon + 3);

  for (guint i = 1; fields[0] != NULL && fields[i] != NULL; i++)
    if (g_str_has_prefix (fields[i], "W=")
        && parse_decimal (fields[i] + 2, &p, &value) && *p == '\0'
        && value <= G_MAXINT64)
      name->vsize = (gint64) value;

  if (parse_decimal (name->base, &p, &value))
    {
      name->seconds = value;
      if (*p == '.')
        for (p++; *p != '\0' && *p != '.';)
          {
            char field = *p++;

            if (!parse_decimal (p, &p, &value))
              continue;
            if (field == 'M')
              name->usec = value;
            else if (field == 'Q')
              name->counter = value;
          }
    }
}

void
pl_maildir_name_clear (PlMaildirName *name)
{
  g_clear_pointer (&name->base, g_free);
  g_clear_pointer (&name->flags, g_free);
}

static void
entry_free (gpointer data)
{
  PlMaildirEntry *entry = data;

  g_free (entry->filename);
  pl_maildir_name_clear (&entry->name);
  g_free (entry);
}

/* Delivery order: the time in the name, then the name (RFC 1939 numbers messages from 1). */
static gint
entry_compare (gconstpointer a,
               gconstpointer b)
{
  const PlMaildirEntry *x = *(PlMaildirEntry * const *) a;
  const PlMaildirEntry *y = *(PlMaildirEntry * const *) b;

  if (x->name.seconds != y->name.seconds)
    return x->name.seconds < y->name.seconds ? -1 : 1;
  if (x->name.usec != y->name.usec)
    return x->name.usec < y->name.usec ? -1 : 1;
  if (x->name.counter != y->name.counter)
    return x->name.counter < y->name.counter ? -1 : 1;
  return strcmp (x->name.base, y->name.base);
}

static char *
entry_path (PlMaildirMaildrop *self,
            PlMaildirEntry    *entry)
{
  return g_build_filename (self->maildir, entry->subdir, entry->filename, NULL);
}

/*
 * Another program (a mail reader, an IMAP server) may have moved the file
 * from new/ to cur/ or changed its flags since the snapshot: the base name
 * stays, so look for it. Returns FALSE when the message is really gone.
 */
static gboolean
entry_relocate (PlMaildirMaildrop *self,
                PlMaildirEntry    *entry)
{
  for (guint d = 0; d < G_N_ELEMENTS (maildir_subdirs); d++)
    {
      g_autofree char *dir_path = g_build_filename (self->maildir, maildir_subdirs[d], NULL);
      g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
      const char *filename;

      if (dir == NULL)
        continue;
      while ((filename = g_dir_read_name (dir)) != NULL)
        {
          gsize len = strlen (entry->name.base);

          if (strncmp (filename, entry->name.base, len) == 0
              && (filename[len] == '\0' || filename[len] == ',' || filename[len] == ':'))
            {
              entry->subdir = maildir_subdirs[d];
              g_free (entry->filename);
              entry->filename = g_strdup (filename);
              return TRUE;
            }
        }
    }
  return FALSE;
}

static GBytes *
pl_maildir_maildrop_read (PlMaildrop  *maildrop,
                          guint        index,
                          GError     **error)
{
  PlMaildirMaildrop *self = PL_MAILDIR_MAILDROP (maildrop);
  PlMaildirEntry *entry = g_ptr_array_index (self->entries, index);
  const PlMessageInfo *info = pl_maildrop_get_message (maildrop, index);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = entry_path (self, entry);
  g_autofree char *contents = NULL;
  GBytes *bytes;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, &local_error)
      && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
      && entry_relocate (self, entry))
    {
      g_clear_error (&local_error);
      g_free (path);
      path = entry_path (self, entry);
      g_file_get_contents (path, &contents, &len, &local_error);
    }

  if (local_error != NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_MESSAGE,
                     "Message %u of %s (%s) is no longer in the Maildir: %s",
                     index + 1, pl_maildrop_get_user (maildrop), entry->name.base,
                     local_error->message);
      else
        g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO,
                     "Cannot read message %u of %s: %s",
                     index + 1, pl_maildrop_get_user (maildrop), local_error->message);
      return NULL;
    }

  /* On disk with LF line ends (the Maildir way); POP3 wants CRLF. */
  bytes = pl_crlf_normalize ((const guint8 *) contents, len);
  if (g_bytes_get_size (bytes) != info->size)
    g_message ("%s: %" G_GSIZE_FORMAT " octets, but the name says %" G_GSIZE_FORMAT
               " (W= field written by another program?)",
               path, g_bytes_get_size (bytes), info->size);
  return bytes;
}

/* RFC 1939 section 6 (UPDATE): every message marked deleted goes, even when one of them fails. */
static gboolean
pl_maildir_maildrop_expunge (PlMaildrop   *maildrop,
                             const guint  *indices,
                             guint         n_indices,
                             GError      **error)
{
  PlMaildirMaildrop *self = PL_MAILDIR_MAILDROP (maildrop);
  g_autoptr(GError) first_error = NULL;

  for (guint i = 0; i < n_indices; i++)
    {
      PlMaildirEntry *entry = g_ptr_array_index (self->entries, indices[i]);
      g_autofree char *path = entry_path (self, entry);
      int rc = unlink (path);

      if (rc != 0 && errno == ENOENT && entry_relocate (self, entry))
        {
          g_free (path);
          path = entry_path (self, entry);
          rc = unlink (path);
        }
      /* Already gone is what we wanted. */
      if (rc != 0 && errno != ENOENT && first_error == NULL)
        pl_store_set_io_error (&first_error, errno, "Cannot remove", path);
    }

  for (guint d = 0; d < G_N_ELEMENTS (maildir_subdirs); d++)
    {
      g_autofree char *dir_path = g_build_filename (self->maildir, maildir_subdirs[d], NULL);

      /* Only the first error is reported; the other folders are still synced. */
      pl_store_fsync_dir (dir_path, first_error == NULL ? &first_error : NULL);
    }

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}

static void
pl_maildir_maildrop_close (PlMaildrop *maildrop)
{
  PlMaildirMaildrop *self = PL_MAILDIR_MAILDROP (maildrop);

  if (self->lock_fd >= 0)
    {
      /* Closing the last descriptor of the open file releases the flock too;
       * unlocking first says what we mean. The lock file stays: removing it
       * would let two sessions lock two different files. */
      flock (self->lock_fd, LOCK_UN);
      close (self->lock_fd);
      self->lock_fd = -1;
    }
}

static void
pl_maildir_maildrop_finalize (GObject *object)
{
  PlMaildirMaildrop *self = PL_MAILDIR_MAILDROP (object);

  if (self->lock_fd >= 0)
    close (self->lock_fd);
  g_free (self->maildir);
  g_ptr_array_unref (self->entries);
  G_OBJECT_CLASS (pl_maildir_maildrop_parent_class)->finalize (object);
}

static void
pl_maildir_maildrop_class_init (PlMaildirMaildropClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PlMaildropClass *maildrop_class = PL_MAILDROP_CLASS (klass);

  object_class->finalize = pl_maildir_maildrop_finalize;
  maildrop_class->read = pl_maildir_maildrop_read;
  maildrop_class->expunge = pl_maildir_maildrop_expunge;
  maildrop_class->close = pl_maildir_maildrop_close;
}

static void
pl_maildir_maildrop_init (PlMaildirMaildrop *self)
{
  self->lock_fd = -1;
  self->entries = g_ptr_array_new_with_free_func (entry_free);
}

/*
 * RFC 1939 section 8 wants an exclusive lock while a session is in the
 * TRANSACTION state. flock() locks belong to the open file, not the process,
 * so a second session in this same server conflicts just as another server
 * process does; and the kernel drops the lock if we crash.
 */
static gboolean
take_lock (PlMaildirMaildrop  *self,
           const char         *user,
           GError            **error)
{
  g_autofree char *lock_path = g_build_filename (self->maildir, PL_MAILDIR_LOCK_NAME, NULL);
  int rc;

  do
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  while (self->lock_fd < 0 && errno == EINTR);
  if (self->lock_fd < 0)
    {
      pl_store_set_io_error (error, errno, "Cannot open lock file", lock_path);
      return FALSE;
    }

  do
    rc = flock (self->lock_fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0)
    {
      int saved_errno = errno;

      close (self->lock_fd);
      self->lock_fd = -1;
      if (saved_errno == EWOULDBLOCK)
        g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED,
                     "The maildrop of %s is locked by another session", user);
      else
        pl_store_set_io_error (error, saved_errno, "Cannot lock", lock_path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
scan_subdir (PlMaildirMaildrop  *self,
             const char         *subdir,
             GError            **error)
{
  g_autofree char *dir_path = g_build_filename (self->maildir, subdir, NULL);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, &local_error);
  const char *filename;

  if (dir == NULL)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO,
                   "Cannot list the Maildir: %s", local_error->message);
      return FALSE;
    }

  while ((filename = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      PlMaildirEntry *entry;
      struct stat st;

      /* The spec: names starting with '.' are not messages. */
      if (filename[0] == '.')
        continue;
      path = g_build_filename (dir_path, filename, NULL);
      /* Gone since readdir() (another session's expunge): not ours to list. */
      if (stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;

      entry = g_new0 (PlMaildirEntry, 1);
      entry->subdir = subdir;
      entry->filename = g_strdup (filename);
      pl_maildir_name_parse (filename, &entry->name);
      g_ptr_array_add (self->entries, entry);
    }
  return TRUE;
}

/* The CRLF size, from the W= field when the name has one, else by reading the file. */
static gboolean
entry_size (PlMaildirMaildrop  *self,
            PlMaildirEntry     *entry,
            gsize              *size,
            GError            **error)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  if (entry->name.vsize >= 0)
    {
      *size = (gsize) entry->name.vsize;
      return TRUE;
    }
  path = entry_path (self, entry);
  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  *size = pl_crlf_size ((const guint8 *) contents, len);
  return TRUE;
}

/*
 * The Maildir spec: a file left in tmp/ (a delivery that crashed half-way)
 * may be removed once it has not been touched for 36 hours. Live deliveries
 * take milliseconds, so this never races one. Failures only cost disk space.
 */
static void
clean_tmp (PlMaildirMaildrop *self)
{
  g_autofree char *dir_path = g_build_filename (self->maildir, "tmp", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  gint64 cutoff = g_get_real_time () / G_USEC_PER_SEC - PL_MAILDIR_TMP_MAX_AGE;
  const char *filename;

  if (dir == NULL)
    return;
  while ((filename = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, filename, NULL);
      struct stat st;

      if (filename[0] == '.' || lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      if (MAX (st.st_atime, st.st_mtime) < cutoff)
        unlink (path);
    }
}

PlMaildrop *
pl_maildir_maildrop_open (const char  *maildir,
                          const char  *user,
                          GError     **error)
{
  g_autoptr(PlMaildirMaildrop) self = g_object_new (PL_TYPE_MAILDIR_MAILDROP, NULL);
  g_autoptr(GHashTable) uids = g_hash_table_new (g_str_hash, g_str_equal);

  self->maildir = g_strdup (maildir);
  pl_maildrop_set_user (PL_MAILDROP (self), user);

  if (!take_lock (self, user, error))
    return NULL;
  clean_tmp (self);
  for (guint d = 0; d < G_N_ELEMENTS (maildir_subdirs); d++)
    if (!scan_subdir (self, maildir_subdirs[d], error))
      return NULL;
  g_ptr_array_sort (self->entries, entry_compare);

  for (guint i = 0; i < self->entries->len;)
    {
      PlMaildirEntry *entry = g_ptr_array_index (self->entries, i);
      g_autoptr(GError) local_error = NULL;
      char *uid;
      gsize size;

      if (!entry_size (self, entry, &size, &local_error))
        {
          /* Vanished, or unreadable: leave it out of this session rather
           * than refuse the whole maildrop; it stays on disk untouched. */
          if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            g_message ("Leaving a message out of %s's maildrop: %s", user, local_error->message);
          g_ptr_array_remove_index (self->entries, i);
          continue;
        }

      /* RFC 1939 section 7: UIDs must be unique in the maildrop. The same
       * base name twice (copied by hand into new/ and cur/) gets a hash of
       * where it lives instead. */
      uid = pl_store_uid_from_name (entry->name.base);
      if (g_hash_table_contains (uids, uid))
        {
          g_autofree char *where = g_strconcat (entry->subdir, "/", entry->filename, NULL);

          g_free (uid);
          uid = g_compute_checksum_for_string (G_CHECKSUM_SHA1, where, -1);
        }
      pl_maildrop_append_info (PL_MAILDROP (self), size, uid);
      g_hash_table_add (uids, uid);
      i++;
    }

  return PL_MAILDROP (g_steal_pointer (&self));
}
