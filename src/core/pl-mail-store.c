/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMailStore and PlMaildrop: what the protocol engines ask of a mail store. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-mail-store.h"

#include <string.h>

G_DEFINE_QUARK (pl-store-error-quark, pl_store_error)

typedef struct {
  char    *user;
  GArray  *infos;   /* of PlMessageInfo */
  gsize    total;
  gboolean closed;
} PlMaildropPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (PlMaildrop, pl_maildrop, G_TYPE_OBJECT)

static void
clear_info (gpointer data)
{
  PlMessageInfo *info = data;
  g_free (info->uid);
}

static void
pl_maildrop_dispose (GObject *object)
{
  pl_maildrop_close (PL_MAILDROP (object));
  G_OBJECT_CLASS (pl_maildrop_parent_class)->dispose (object);
}

static void
pl_maildrop_finalize (GObject *object)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (PL_MAILDROP (object));

  g_free (priv->user);
  g_array_unref (priv->infos);
  G_OBJECT_CLASS (pl_maildrop_parent_class)->finalize (object);
}

static void
pl_maildrop_class_init (PlMaildropClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_maildrop_dispose;
  object_class->finalize = pl_maildrop_finalize;
}

static void
pl_maildrop_init (PlMaildrop *self)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);

  priv->infos = g_array_new (FALSE, TRUE, sizeof (PlMessageInfo));
  g_array_set_clear_func (priv->infos, clear_info);
}

const char *
pl_maildrop_get_user (PlMaildrop *self)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);

  g_return_val_if_fail (PL_IS_MAILDROP (self), NULL);
  return priv->user;
}

void
pl_maildrop_set_user (PlMaildrop *self,
                      const char *user)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);

  g_return_if_fail (PL_IS_MAILDROP (self));
  g_free (priv->user);
  priv->user = g_strdup (user);
}

void
pl_maildrop_append_info (PlMaildrop *self,
                         gsize       size,
                         char       *uid)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);
  PlMessageInfo info = { size, uid };

  g_return_if_fail (PL_IS_MAILDROP (self));
  g_array_append_val (priv->infos, info);
  priv->total += size;
}

guint
pl_maildrop_get_n_messages (PlMaildrop *self)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);

  g_return_val_if_fail (PL_IS_MAILDROP (self), 0);
  return priv->infos->len;
}

/* Returns the message at @index (0-based), borrowed, or NULL when out of range. */
const PlMessageInfo *
pl_maildrop_get_message (PlMaildrop *self,
                         guint       index)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);

  g_return_val_if_fail (PL_IS_MAILDROP (self), NULL);
  if (index >= priv->infos->len)
    return NULL;
  return &g_array_index (priv->infos, PlMessageInfo, index);
}

gsize
pl_maildrop_get_total_size (PlMaildrop *self)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);

  g_return_val_if_fail (PL_IS_MAILDROP (self), 0);
  return priv->total;
}

/*
 * pl_maildrop_read:
 * Returns the message at @index (0-based) with CRLF line ends, exactly
 * pl_maildrop_get_message()->size octets, not dot-stuffed.
 */
GBytes *
pl_maildrop_read (PlMaildrop  *self,
                  guint        index,
                  GError     **error)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);

  g_return_val_if_fail (PL_IS_MAILDROP (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (index >= priv->infos->len)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_MESSAGE,
                   "No message %u in the maildrop of %s", index + 1, priv->user);
      return NULL;
    }
  return PL_MAILDROP_GET_CLASS (self)->read (self, index, error);
}

/*
 * pl_maildrop_expunge:
 * Removes the messages at @indices (0-based) from the store: RFC 1939
 * section 6, the UPDATE state. The snapshot itself does not change.
 */
gboolean
pl_maildrop_expunge (PlMaildrop   *self,
                     const guint  *indices,
                     guint         n_indices,
                     GError      **error)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);

  g_return_val_if_fail (PL_IS_MAILDROP (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < n_indices; i++)
    if (indices[i] >= priv->infos->len)
      {
        g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_MESSAGE,
                     "No message %u in the maildrop of %s", indices[i] + 1, priv->user);
        return FALSE;
      }
  if (n_indices == 0)
    return TRUE;
  return PL_MAILDROP_GET_CLASS (self)->expunge (self, indices, n_indices, error);
}

/* Releases the lock. Idempotent; also done when the maildrop is disposed. */
void
pl_maildrop_close (PlMaildrop *self)
{
  PlMaildropPrivate *priv = pl_maildrop_get_instance_private (self);

  g_return_if_fail (PL_IS_MAILDROP (self));
  if (priv->closed)
    return;
  priv->closed = TRUE;
  if (PL_MAILDROP_GET_CLASS (self)->close != NULL)
    PL_MAILDROP_GET_CLASS (self)->close (self);
}

G_DEFINE_ABSTRACT_TYPE (PlMailStore, pl_mail_store, G_TYPE_OBJECT)

static void
pl_mail_store_class_init (PlMailStoreClass *klass)
{
}

static void
pl_mail_store_init (PlMailStore *self)
{
}

gboolean
pl_mail_store_has_user (PlMailStore *self,
                        const char  *user)
{
  g_return_val_if_fail (PL_IS_MAIL_STORE (self), FALSE);
  g_return_val_if_fail (user != NULL, FALSE);
  return PL_MAIL_STORE_GET_CLASS (self)->has_user (self, user);
}

/* Returns TRUE only when @user exists and @password is theirs. */
gboolean
pl_mail_store_check_password (PlMailStore *self,
                              const char  *user,
                              const char  *password)
{
  g_return_val_if_fail (PL_IS_MAIL_STORE (self), FALSE);
  if (user == NULL || password == NULL)
    return FALSE;
  return PL_MAIL_STORE_GET_CLASS (self)->check_password (self, user, password);
}

/*
 * pl_mail_store_open_maildrop:
 * Opens @user's maildrop under an exclusive lock (RFC 1939 section 8). Fails
 * with PL_STORE_ERROR_LOCKED while another session holds it.
 */
PlMaildrop *
pl_mail_store_open_maildrop (PlMailStore  *self,
                             const char   *user,
                             GError      **error)
{
  g_return_val_if_fail (PL_IS_MAIL_STORE (self), NULL);
  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return PL_MAIL_STORE_GET_CLASS (self)->open_maildrop (self, user, error);
}

/*
 * pl_mail_store_deliver:
 * Stores @message for @user. Returns only once the message is durable (for a
 * store on disk: written, fsynced and renamed into place), so a server may
 * acknowledge it.
 */
gboolean
pl_mail_store_deliver (PlMailStore   *self,
                       const char    *user,
                       const guint8  *message,
                       gsize          len,
                       GError       **error)
{
  g_return_val_if_fail (PL_IS_MAIL_STORE (self), FALSE);
  g_return_val_if_fail (user != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return PL_MAIL_STORE_GET_CLASS (self)->deliver (self, user, message, len, error);
}

/* The size of @data once every line ends in CRLF (a bare LF counts as two octets). */
gsize
pl_crlf_size (const guint8 *data,
              gsize         len)
{
  gsize size = len;
  const guint8 *end = data + len;
  const guint8 *lf = len > 0 ? memchr (data, '\n', len) : NULL;

  /* From one LF to the next with memchr(): messages are mostly long lines. */
  while (lf != NULL)
    {
      if (lf == data || lf[-1] != '\r')
        size++;
      lf = lf + 1 < end ? memchr (lf + 1, '\n', (gsize) (end - lf - 1)) : NULL;
    }
  return size;
}

/* A copy of @data with every bare LF turned into CRLF. */
GBytes *
pl_crlf_normalize (const guint8 *data,
                   gsize         len)
{
  gsize size = pl_crlf_size (data, len);
  guint8 *out;
  gsize o = 0;

  if (size == len)
    return g_bytes_new (data, len);

  out = g_malloc (size);
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
        out[o++] = '\r';
      out[o++] = data[i];
    }
  g_assert (o == size);
  return g_bytes_new_take (out, size);
}
