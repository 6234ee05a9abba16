/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMemoryMaildrop: a session's snapshot of one user's messages in a PlMemoryStore. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-memory-maildrop-private.h"

struct _PlMemoryMaildrop
{
  PlMaildrop     parent_instance;

  PlMemoryStore *store;      /* owned: the lock lives there */
  GPtrArray     *messages;   /* of PlMemoryMessage*, the snapshot */
};

G_DEFINE_FINAL_TYPE (PlMemoryMaildrop, pl_memory_maildrop, PL_TYPE_MAILDROP)

static GBytes *
pl_memory_maildrop_read (PlMaildrop  *maildrop,
                         guint        index,
                         GError     **error)
{
  PlMemoryMaildrop *self = PL_MEMORY_MAILDROP (maildrop);
  PlMemoryMessage *message = g_ptr_array_index (self->messages, index);

  /* Stored as delivered; POP3 wants CRLF (RFC 1939 section 3). */
  return pl_crlf_normalize (g_bytes_get_data (message->bytes, NULL),
                            g_bytes_get_size (message->bytes));
}

static gboolean
pl_memory_maildrop_expunge (PlMaildrop   *maildrop,
                            const guint  *indices,
                            guint         n_indices,
                            GError      **error)
{
  PlMemoryMaildrop *self = PL_MEMORY_MAILDROP (maildrop);
  g_autofree PlMemoryMessage **doomed = g_new (PlMemoryMessage *, n_indices);

  for (guint i = 0; i < n_indices; i++)
    doomed[i] = g_ptr_array_index (self->messages, indices[i]);
  pl_memory_store_remove_messages (self->store, pl_maildrop_get_user (maildrop),
                                   doomed, n_indices);
  return TRUE;
}

static void
pl_memory_maildrop_close (PlMaildrop *maildrop)
{
  PlMemoryMaildrop *self = PL_MEMORY_MAILDROP (maildrop);

  pl_memory_store_release_maildrop (self->store, pl_maildrop_get_user (maildrop));
}

static void
pl_memory_maildrop_dispose (GObject *object)
{
  PlMemoryMaildrop *self = PL_MEMORY_MAILDROP (object);

  /* The parent's dispose closes us, which needs the store: chain first. */
  G_OBJECT_CLASS (pl_memory_maildrop_parent_class)->dispose (object);
  g_clear_object (&self->store);
}

static void
pl_memory_maildrop_finalize (GObject *object)
{
  PlMemoryMaildrop *self = PL_MEMORY_MAILDROP (object);

  g_clear_pointer (&self->messages, g_ptr_array_unref);
  G_OBJECT_CLASS (pl_memory_maildrop_parent_class)->finalize (object);
}

static void
pl_memory_maildrop_class_init (PlMemoryMaildropClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PlMaildropClass *maildrop_class = PL_MAILDROP_CLASS (klass);

  object_class->dispose = pl_memory_maildrop_dispose;
  object_class->finalize = pl_memory_maildrop_finalize;
  maildrop_class->read = pl_memory_maildrop_read;
  maildrop_class->expunge = pl_memory_maildrop_expunge;
  maildrop_class->close = pl_memory_maildrop_close;
}

static void
pl_memory_maildrop_init (PlMemoryMaildrop *self)
{
}

PlMaildrop *
pl_memory_maildrop_new (PlMemoryStore *store,
                        const char    *user,
                        GPtrArray     *messages)
{
  PlMemoryMaildrop *self = g_object_new (PL_TYPE_MEMORY_MAILDROP, NULL);

  self->store = g_object_ref (store);
  self->messages = messages;
  pl_maildrop_set_user (PL_MAILDROP (self), user);
  for (guint i = 0; i < messages->len; i++)
    {
      PlMemoryMessage *message = g_ptr_array_index (messages, i);

      pl_maildrop_append_info (PL_MAILDROP (self), message->size, g_strdup (message->uid));
    }
  return PL_MAILDROP (self);
}
