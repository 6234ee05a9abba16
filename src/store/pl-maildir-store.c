/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMaildirStore: a mail store on disk, one Maildir per user, users in a users file. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-maildir-store.h"
#include "pl-maildir-maildrop-private.h"
#include "pl-store-util-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _PlMaildirStore
{
  PlMailStore  parent_instance;

  char        *root;
  char        *users_path;
  char        *mail_path;     /* ROOT/mail: one Maildir per user below */

  /* Engines may run in several threads: the mutex guards the users table and
   * the users file. Deliveries and maildrops need no lock of ours: Maildir
   * delivery is lock-free by design, and maildrops flock(). */
  GMutex       mutex;
  GHashTable  *users;         /* user -> password */
};

G_DEFINE_FINAL_TYPE (PlMaildirStore, pl_maildir_store, PL_TYPE_MAIL_STORE)

/* The Q field of delivery names: unique within this process. */
static guint delivery_counter;

static const char * const maildir_parts[] = { "tmp", "new", "cur" };

/*
 * Parses a users file: one "user:password" a line; blank lines and lines
 * whose first non-blank character is '#' are skipped; CRLF is accepted. The
 * password is everything after the first ':' (it may hold ':' itself).
 */
static GHashTable *
parse_users (const char  *path,
             const char  *contents,
             gsize        len,
             GError     **error)
{
  g_autoptr(GHashTable) users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) first_line = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *p = contents;
  const char *end = contents + len;
  guint lineno = 0;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *line_end = nl != NULL ? nl : end;
      g_autofree char *line = NULL;
      g_autofree char *user = NULL;
      const char *colon, *password, *q;
      gsize line_len;

      lineno++;
      line_len = (gsize) (line_end - p);
      if (line_len > 0 && p[line_len - 1] == '\r')
        line_len--;
      line = g_strndup (p, line_len);
      p = nl != NULL ? nl + 1 : end;

      if (strlen (line) != line_len)
        {
          g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                       "%s:%u: a NUL byte in the line", path, lineno);
          return NULL;
        }
      for (q = line; *q == ' ' || *q == '\t'; q++)
        ;
      if (*q == '\0' || *q == '#')
        continue;

      colon = strchr (line, ':');
      if (colon == NULL)
        {
          g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                       "%s:%u: expected user:password", path, lineno);
          return NULL;
        }
      user = g_strndup (line, (gsize) (colon - line));
      password = colon + 1;
      if (!pl_store_user_name_is_valid (user))
        {
          g_autofree char *shown = g_strescape (user, NULL);

          g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                       "%s:%u: \"%.64s\" is not a user name (letters, digits, '.', '_', '-'; "
                       "not starting with '.'; at most %d)",
                       path, lineno, shown, PL_STORE_USER_MAX);
          return NULL;
        }
      if (*password == '\0')
        {
          g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                       "%s:%u: user %s has an empty password", path, lineno, user);
          return NULL;
        }
      if (g_hash_table_contains (first_line, user))
        {
          g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                       "%s:%u: user %s is listed twice (first on line %u)", path, lineno, user,
                       GPOINTER_TO_UINT (g_hash_table_lookup (first_line, user)));
          return NULL;
        }
      g_hash_table_insert (first_line, g_strdup (user), GUINT_TO_POINTER (lineno));
      g_hash_table_insert (users, g_steal_pointer (&user), g_strdup (password));
    }
  return g_steal_pointer (&users);
}

/* Reads the users file; a missing one is an empty store. *contents gets the text (may be NULL). */
static gboolean
read_users_file (PlMaildirStore  *self,
                 char           **contents,
                 gsize           *len,
                 GError         **error)
{
  g_autoptr(GError) local_error = NULL;

  if (g_file_get_contents (self->users_path, contents, len, &local_error))
    return TRUE;
  if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      *contents = g_strdup ("");
      *len = 0;
      return TRUE;
    }
  g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO, "%s", local_error->message);
  return FALSE;
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

/*
 * Creates ROOT/mail/USER/{tmp,new,cur} when missing (a user added by editing
 * the users file has none yet), and syncs the folders that got new names.
 */
static gboolean
ensure_maildir (PlMaildirStore  *self,
                const char      *maildir,
                GError         **error)
{
  gboolean created = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (maildir_parts); i++)
    {
      g_autofree char *path = g_build_filename (maildir, maildir_parts[i], NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      if (!make_dir (path, error))
        return FALSE;
      created = TRUE;
    }
  if (created)
    return pl_store_fsync_dir (maildir, error) && pl_store_fsync_dir (self->mail_path, error);
  return TRUE;
}

/*
 * The Maildir spec (cr.yp.to/proto/maildir.html) escapes '/' and ':' in the
 * host name; ',' too, since it separates Dovecot's S= and W= fields.
 */
static char *
escaped_host_name (void)
{
  const char *host = g_get_host_name ();
  GString *out = g_string_new (NULL);

  for (const char *p = host; *p != '\0'; p++)
    {
      if (*p == '/' || *p == ':' || *p == ',')
        g_string_append_printf (out, "\\%03o", (guint) (guchar) *p);
      else if ((guchar) *p <= 0x20 || (guchar) *p >= 0x7F)
        g_string_append_c (out, '_');
      else
        g_string_append_c (out, *p);
    }
  if (out->len == 0)
    g_string_append (out, "localhost");
  return g_string_free (out, FALSE);
}

/* @data with each CRLF turned into LF: the Maildir convention on disk. */
static GBytes *
to_lf (const guint8 *data,
       gsize         len)
{
  guint8 *out = g_malloc (len + 1);
  gsize o = 0;

  for (gsize i = 0; i < len; i++)
    if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
      out[o++] = data[i];
  return g_bytes_new_take (out, o);
}

/* Writes @data to a new file at @path (O_EXCL), fsyncs and closes it; errno on failure. */
static gboolean
write_new_file (const char   *path,
                const guint8 *data,
                gsize         len,
                int           mode,
                gboolean     *exists)
{
  int fd, saved_errno;

  *exists = FALSE;
  do
    fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      *exists = (errno == EEXIST);
      return FALSE;
    }
  if (!pl_store_write_all (fd, data, len) || fsync (fd) != 0)
    {
      saved_errno = errno;
      close (fd);
      errno = saved_errno;
      return FALSE;
    }
  /* close() can report a delayed write error (NFS): it counts. */
  return close (fd) == 0;
}

static gboolean
pl_maildir_store_has_user_impl (PlMailStore *store,
                                const char  *user)
{
  PlMaildirStore *self = PL_MAILDIR_STORE (store);
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  return g_hash_table_contains (self->users, user);
}

static gboolean
pl_maildir_store_check_password_impl (PlMailStore *store,
                                      const char  *user,
                                      const char  *password)
{
  PlMaildirStore *self = PL_MAILDIR_STORE (store);
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  return pl_store_password_equal (g_hash_table_lookup (self->users, user), password);
}

/* The user's Maildir, or NULL (with NO_SUCH_USER) when there is no such user. */
static char *
maildir_of_known_user (PlMaildirStore  *self,
                       const char      *user,
                       GError         **error)
{
  if (!pl_store_user_name_is_valid (user)
      || !pl_mail_store_has_user (PL_MAIL_STORE (self), user))
    {
      g_autofree char *shown = g_strescape (user, NULL);

      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_USER,
                   "No such user: %.64s", shown);
      return NULL;
    }
  return g_build_filename (self->mail_path, user, NULL);
}

static PlMaildrop *
pl_maildir_store_open_maildrop_impl (PlMailStore  *store,
                                     const char   *user,
                                     GError      **error)
{
  PlMaildirStore *self = PL_MAILDIR_STORE (store);
  g_autofree char *maildir = maildir_of_known_user (self, user, error);

  if (maildir == NULL || !ensure_maildir (self, maildir, error))
    return NULL;
  return pl_maildir_maildrop_open (maildir, user, error);
}

/*
 * Delivery the Maildir way (cr.yp.to/proto/maildir.html): a unique name,
 * written in tmp/, fsynced, renamed into new/, and new/ fsynced; only then is
 * the message safe to acknowledge (RFC 5321 section 4.5.4.1: a 250 after
 * DATA is a promise). No lock is needed: readers never see a half-written
 * message, and rename() is atomic.
 */
static gboolean
pl_maildir_store_deliver_impl (PlMailStore   *store,
                               const char    *user,
                               const guint8  *data,
                               gsize          len,
                               GError       **error)
{
  PlMaildirStore *self = PL_MAILDIR_STORE (store);
  g_autofree char *maildir = maildir_of_known_user (self, user, error);
  g_autofree char *host = NULL;
  g_autofree char *tmp_path = NULL;
  g_autofree char *new_path = NULL;
  g_autofree char *new_dir = NULL;
  g_autoptr(GBytes) lf = NULL;
  const guint8 *lf_data;
  gsize lf_len, vsize;

  if (maildir == NULL || !ensure_maildir (self, maildir, error))
    return FALSE;

  lf = to_lf (data, len);
  lf_data = g_bytes_get_data (lf, &lf_len);
  /* W= is computed from what is stored, so that a read returns exactly it. */
  vsize = pl_crlf_size (lf_data, lf_len);
  host = escaped_host_name ();
  new_dir = g_build_filename (maildir, "new", NULL);

  for (guint attempt = 0; ; attempt++)
    {
      gint64 now = g_get_real_time ();
      g_autofree char *name = NULL;
      gboolean exists;

      name = g_strdup_printf ("%" G_GINT64_FORMAT ".M%" G_GINT64_FORMAT "P%dQ%u.%s,S=%"
                              G_GSIZE_FORMAT ",W=%" G_GSIZE_FORMAT,
                              now / G_USEC_PER_SEC, now % G_USEC_PER_SEC, (int) getpid (),
                              (guint) g_atomic_int_add (&delivery_counter, 1) + 1,
                              host, lf_len, vsize);
      g_free (tmp_path);
      tmp_path = g_build_filename (maildir, "tmp", name, NULL);
      if (write_new_file (tmp_path, lf_data, lf_len, 0600, &exists))
        {
          new_path = g_build_filename (new_dir, name, NULL);
          break;
        }
      if (exists && attempt < 16)
        continue;   /* someone else's name (a forked server with our pid?): another one */

      {
        int saved_errno = errno;

        if (!exists)
          unlink (tmp_path);
        pl_store_set_io_error (error, saved_errno, "Cannot write", tmp_path);
        return FALSE;
      }
    }

  if (rename (tmp_path, new_path) != 0)
    {
      int saved_errno = errno;

      unlink (tmp_path);
      pl_store_set_io_error (error, saved_errno, "Cannot move the message to", new_path);
      return FALSE;
    }
  if (!pl_store_fsync_dir (new_dir, error))
    {
      /* Not durable, so not delivered: the sender will try again, and must
       * not find a copy here then. */
      unlink (new_path);
      return FALSE;
    }
  return TRUE;
}

static void
pl_maildir_store_finalize (GObject *object)
{
  PlMaildirStore *self = PL_MAILDIR_STORE (object);

  g_free (self->root);
  g_free (self->users_path);
  g_free (self->mail_path);
  g_clear_pointer (&self->users, g_hash_table_unref);
  g_mutex_clear (&self->mutex);
  G_OBJECT_CLASS (pl_maildir_store_parent_class)->finalize (object);
}

static void
pl_maildir_store_class_init (PlMaildirStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PlMailStoreClass *store_class = PL_MAIL_STORE_CLASS (klass);

  object_class->finalize = pl_maildir_store_finalize;
  store_class->has_user = pl_maildir_store_has_user_impl;
  store_class->check_password = pl_maildir_store_check_password_impl;
  store_class->open_maildrop = pl_maildir_store_open_maildrop_impl;
  store_class->deliver = pl_maildir_store_deliver_impl;
}

static void
pl_maildir_store_init (PlMaildirStore *self)
{
  g_mutex_init (&self->mutex);
}

/*
 * pl_maildir_store_new:
 * Opens the store at @root, creating the folder if needed:
 *   ROOT/users             "user:password" lines, '#' comments
 *   ROOT/mail/USER/{tmp,new,cur}   each user's Maildir
 * A users file that cannot be read fails with PL_STORE_ERROR_INVALID naming
 * the file and line (PL_STORE_ERROR_IO when the disk says no).
 */
PlMailStore *
pl_maildir_store_new (const char  *root,
                      GError     **error)
{
  g_autoptr(PlMaildirStore) self = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  g_return_val_if_fail (root != NULL && root[0] != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (PL_TYPE_MAILDIR_STORE, NULL);
  /* Absolute, so that a later chdir() cannot move the store. */
  self->root = g_canonicalize_filename (root, NULL);
  self->users_path = g_build_filename (self->root, "users", NULL);
  self->mail_path = g_build_filename (self->root, "mail", NULL);

  if (!make_dir (self->root, error) || !make_dir (self->mail_path, error))
    return NULL;
  if (!read_users_file (self, &contents, &len, error))
    return NULL;
  self->users = parse_users (self->users_path, contents, len, error);
  if (self->users == NULL)
    return NULL;
  return PL_MAIL_STORE (g_steal_pointer (&self));
}

const char *
pl_maildir_store_get_root (PlMaildirStore *self)
{
  g_return_val_if_fail (PL_IS_MAILDIR_STORE (self), NULL);
  return self->root;
}

/* TRUE when the store has no users yet (a new data folder, to be seeded). */
gboolean
pl_maildir_store_is_empty (PlMaildirStore *self)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (PL_IS_MAILDIR_STORE (self), FALSE);
  locker = g_mutex_locker_new (&self->mutex);
  return g_hash_table_size (self->users) == 0;
}

/* The users file with @user's line set to @password (replaced in place, or appended). */
static char *
users_file_with (const char *contents,
                 const char *user,
                 const char *password)
{
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  GString *out = g_string_new (NULL);
  gsize user_len = strlen (user);
  gboolean replaced = FALSE;
  guint n = g_strv_length (lines);

  /* A final newline leaves an empty last piece: not a line. */
  if (n > 0 && lines[n - 1][0] == '\0')
    n--;
  for (guint i = 0; i < n; i++)
    {
      if (!replaced && strncmp (lines[i], user, user_len) == 0 && lines[i][user_len] == ':')
        {
          g_string_append_printf (out, "%s:%s\n", user, password);
          replaced = TRUE;
        }
      else
        g_string_append_printf (out, "%s\n", lines[i]);
    }
  if (!replaced)
    g_string_append_printf (out, "%s:%s\n", user, password);
  return g_string_free (out, FALSE);
}

/*
 * pl_maildir_store_add_user:
 * Adds @user with @password to the users file, or changes the password of
 * an existing user, and creates the user's Maildir. The users file is
 * replaced atomically (a new file, fsynced, renamed over the old one, the
 * folder fsynced), so a crash leaves the old file or the new one, never half.
 * Comments and other lines are kept. Fails with PL_STORE_ERROR_INVALID for a
 * name that is not a user name (so none can climb out of ROOT/mail) or a
 * password that cannot be written on one line.
 */
gboolean
pl_maildir_store_add_user (PlMaildirStore  *self,
                           const char      *user,
                           const char      *password,
                           GError         **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GHashTable) users = NULL;
  g_autofree char *maildir = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *updated = NULL;
  g_autofree char *tmp_path = NULL;
  gboolean exists;
  gsize len;

  g_return_val_if_fail (PL_IS_MAILDIR_STORE (self), FALSE);
  g_return_val_if_fail (user != NULL, FALSE);
  g_return_val_if_fail (password != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!pl_store_user_name_is_valid (user))
    {
      g_autofree char *shown = g_strescape (user, NULL);

      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                   "\"%.64s\" is not a user name (letters, digits, '.', '_', '-'; "
                   "not starting with '.'; at most %d)", shown, PL_STORE_USER_MAX);
      return FALSE;
    }
  if (password[0] == '\0' || strpbrk (password, "\r\n") != NULL)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_INVALID,
                   "The password of %s must be one line, and not empty", user);
      return FALSE;
    }

  /* The Maildir first: a user listed in the file always has somewhere to receive. */
  maildir = g_build_filename (self->mail_path, user, NULL);
  if (!ensure_maildir (self, maildir, error))
    return FALSE;

  locker = g_mutex_locker_new (&self->mutex);
  if (!read_users_file (self, &contents, &len, error))
    return FALSE;
  updated = users_file_with (contents, user, password);
  /* What we write must read back (and the file may have been edited since we loaded it). */
  users = parse_users (self->users_path, updated, strlen (updated), error);
  if (users == NULL)
    return FALSE;

  tmp_path = g_strdup_printf ("%s.tmp.%d.%u", self->users_path, (int) getpid (),
                              (guint) g_atomic_int_add (&delivery_counter, 1) + 1);
  if (!write_new_file (tmp_path, (const guint8 *) updated, strlen (updated), 0600, &exists))
    {
      int saved_errno = errno;

      if (!exists)
        unlink (tmp_path);
      pl_store_set_io_error (error, saved_errno, "Cannot write", tmp_path);
      return FALSE;
    }
  if (rename (tmp_path, self->users_path) != 0)
    {
      int saved_errno = errno;

      unlink (tmp_path);
      pl_store_set_io_error (error, saved_errno, "Cannot replace", self->users_path);
      return FALSE;
    }
  if (!pl_store_fsync_dir (self->root, error))
    return FALSE;

  g_hash_table_unref (self->users);
  self->users = g_steal_pointer (&users);
  return TRUE;
}

/* The path of @user's Maildir, or NULL when @user is not a valid user name. */
char *
pl_maildir_store_dup_maildir (PlMaildirStore *self,
                              const char     *user)
{
  g_return_val_if_fail (PL_IS_MAILDIR_STORE (self), NULL);
  g_return_val_if_fail (user != NULL, NULL);

  if (!pl_store_user_name_is_valid (user))
    return NULL;
  return g_build_filename (self->mail_path, user, NULL);
}
