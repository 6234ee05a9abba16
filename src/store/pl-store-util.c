/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the mail stores: user names, passwords, POP3 UIDs. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-store-util-private.h"
#include "pl-mail-store.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/*
 * A user name becomes a folder name (ROOT/mail/USER), so only names that
 * cannot climb out of the store or hide as dot-files are accepted: letters,
 * digits, '.', '_' and '-', not starting with '.', at most
 * PL_STORE_USER_MAX octets.
 */
gboolean
pl_store_user_name_is_valid (const char *user)
{
  gsize len;

  if (user == NULL || user[0] == '\0' || user[0] == '.')
    return FALSE;
  len = strlen (user);
  if (len > PL_STORE_USER_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = user[i];

      if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != '-')
        return FALSE;
    }
  return TRUE;
}

/*
 * Compares passwords in time that depends only on the length of @given, so
 * that a client timing -ERR replies learns nothing about how many leading
 * characters it guessed right.
 */
gboolean
pl_store_password_equal (const char *expected,
                         const char *given)
{
  gsize elen, glen;
  guint diff;

  if (expected == NULL || given == NULL)
    return FALSE;
  elen = strlen (expected);
  glen = strlen (given);
  diff = (elen != glen);
  for (gsize i = 0; i < glen; i++)
    diff |= (guint) (guchar) given[i] ^ (guint) (guchar) (elen > 0 ? expected[i % elen] : 0);
  return diff == 0 && elen > 0;
}

/*
 * RFC 1939 section 7 (UIDL): a unique-id is 1 to 70 characters in the range
 * 0x21 to 0x7E. A name that already fits is kept as it is, so that the UID
 * reads like the Maildir file it names; anything else is replaced by its
 * SHA-1 in hex (40 characters), which is stable across sessions.
 */
char *
pl_store_uid_from_name (const char *name)
{
  gsize len = strlen (name);
  gboolean fits = len >= 1 && len <= 70;

  for (gsize i = 0; fits && i < len; i++)
    if ((guchar) name[i] < 0x21 || (guchar) name[i] > 0x7E)
      fits = FALSE;
  if (fits)
    return g_strdup (name);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA1, name, (gssize) len);
}

void
pl_store_set_io_error (GError     **error,
                       int          saved_errno,
                       const char  *what,
                       const char  *path)
{
  g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_IO,
               "%s %s: %s", what, path, g_strerror (saved_errno));
}

/*
 * A rename() or unlink() is durable only once the folder that holds the name
 * is on disk too; fsync() of the file alone does not promise that (the
 * Maildir spec leaves it to the file system; ext4 and XFS want it done).
 */
gboolean
pl_store_fsync_dir (const char  *path,
                    GError     **error)
{
  int fd, saved_errno;

  do
    fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      pl_store_set_io_error (error, errno, "Cannot open folder", path);
      return FALSE;
    }
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      /* EINVAL: a file system that cannot sync folders (nothing to wait for). */
      saved_errno = errno;
      close (fd);
      pl_store_set_io_error (error, saved_errno, "Cannot fsync folder", path);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

gboolean
pl_store_write_all (int           fd,
                    const guint8 *data,
                    gsize         len)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return FALSE;
        }
      if (n == 0)
        {
          errno = EIO;
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}
