/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMemoryStore: a mail store held in memory, for the simulator and tests. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-memory-store.h"

#include <string.h>

#include "pl-memory-maildrop-private.h"
#include "pl-store-util-private.h"

typedef struct {
  char      *password;
  GPtrArray *messages;   /* of PlMemoryMessage*, in delivery order */
  gboolean   locked;     /* a PlMaildrop of this user is open */
} PlMemoryUser;

struct _PlMemoryStore
{
  PlMailStore  parent_instance;

  /* Engines may run in several threads (GThreadedSocketService): one lock
   * guards everything below. */
  GMutex       mutex;
  GHashTable  *users;      /* char* -> PlMemoryUser* */
  guint64      next_uid;
};

G_DEFINE_FINAL_TYPE (PlMemoryStore, pl_memory_store, PL_TYPE_MAIL_STORE)

static void
pl_memory_message_clear (gpointer data)
{
  PlMemoryMessage *message = data;

  g_free (message->uid);
  g_bytes_unref (message->bytes);
}

PlMemoryMessage *
pl_memory_message_ref (PlMemoryMessage *message)
{
  return g_atomic_rc_box_acquire (message);
}

void
pl_memory_message_unref (PlMemoryMessage *message)
{
  g_atomic_rc_box_release_full (message, pl_memory_message_clear);
}

static void
pl_memory_user_free (gpointer data)
{
  PlMemoryUser *user = data;

  g_free (user->password);
  g_ptr_array_unref (user->messages);
  g_free (user);
}

static gboolean
pl_memory_store_has_user_impl (PlMailStore *store,
                               const char  *user)
{
  PlMemoryStore *self = PL_MEMORY_STORE (store);
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);

  return g_hash_table_contains (self->users, user);
}

static gboolean
pl_memory_store_check_password_impl (PlMailStore *store,
                                     const char  *user,
                                     const char  *password)
{
  PlMemoryStore *self = PL_MEMORY_STORE (store);
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  PlMemoryUser *entry = g_hash_table_lookup (self->users, user);

  return entry != NULL && pl_store_password_equal (entry->password, password);
}

static PlMaildrop *
pl_memory_store_open_maildrop_impl (PlMailStore  *store,
                                    const char   *user,
                                    GError      **error)
{
  PlMemoryStore *self = PL_MEMORY_STORE (store);
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  PlMemoryUser *entry = g_hash_table_lookup (self->users, user);
  GPtrArray *snapshot;

  if (entry == NULL)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_USER,
                   "No such user: %s", user);
      return NULL;
    }
  if (entry->locked)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED,
                   "The maildrop of %s is locked by another session", user);
      return NULL;
    }

  entry->locked = TRUE;
  snapshot = g_ptr_array_new_full (entry->messages->len,
                                   (GDestroyNotify) pl_memory_message_unref);
  for (guint i = 0; i < entry->messages->len; i++)
    g_ptr_array_add (snapshot, pl_memory_message_ref (g_ptr_array_index (entry->messages, i)));

  /* The maildrop's close calls back into the store: let go of the mutex first. */
  g_clear_pointer (&locker, g_mutex_locker_free);
  return pl_memory_maildrop_new (self, user, snapshot);
}

/* "pl000042": "pl" and at least six digits (a simulation delivers thousands a second: no printf). */
static char *
make_uid (guint64 n)
{
  char digits[24];
  char *p = digits + sizeof digits - 1;
  gsize len;
  char *uid;

  *p = '\0';
  do
    *--p = (char) ('0' + n % 10);
  while ((n /= 10) > 0);
  len = (gsize) (digits + sizeof digits - 1 - p);
  uid = g_malloc (2 + MAX (len, 6) + 1);
  memcpy (uid, "pl", 2);
  memset (uid + 2, '0', len < 6 ? 6 - len : 0);
  memcpy (uid + 2 + (len < 6 ? 6 - len : 0), p, len + 1);
  return uid;
}

static gboolean
pl_memory_store_deliver_impl (PlMailStore   *store,
                              const char    *user,
                              const guint8  *data,
                              gsize          len,
                              GError       **error)
{
  PlMemoryStore *self = PL_MEMORY_STORE (store);
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  PlMemoryUser *entry = g_hash_table_lookup (self->users, user);
  PlMemoryMessage *message;

  if (entry == NULL)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_USER,
                   "No such user: %s", user);
      return FALSE;
    }

  /* An open session keeps its snapshot (RFC 1939 section 8); the new
   * message shows at the next login. */
  message = g_atomic_rc_box_new0 (PlMemoryMessage);
  message->uid = make_uid (++self->next_uid);
  message->bytes = g_bytes_new (data, len);
  message->size = pl_crlf_size (data, len);
  g_ptr_array_add (entry->messages, message);
  return TRUE;
}

static void
pl_memory_store_finalize (GObject *object)
{
  PlMemoryStore *self = PL_MEMORY_STORE (object);

  g_hash_table_unref (self->users);
  g_mutex_clear (&self->mutex);
  G_OBJECT_CLASS (pl_memory_store_parent_class)->finalize (object);
}

static void
pl_memory_store_class_init (PlMemoryStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  PlMailStoreClass *store_class = PL_MAIL_STORE_CLASS (klass);

  object_class->finalize = pl_memory_store_finalize;
  store_class->has_user = pl_memory_store_has_user_impl;
  store_class->check_password = pl_memory_store_check_password_impl;
  store_class->open_maildrop = pl_memory_store_open_maildrop_impl;
  store_class->deliver = pl_memory_store_deliver_impl;
}

static void
pl_memory_store_init (PlMemoryStore *self)
{
  g_mutex_init (&self->mutex);
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pl_memory_user_free);
}

/* An empty store: no users, no messages. */
PlMailStore *
pl_memory_store_new (void)
{
  return g_object_new (PL_TYPE_MEMORY_STORE, NULL);
}

/*
 * pl_memory_store_add_user:
 * Adds @user with @password (RFC 1939 section 7, USER/PASS), or changes the
 * password of an existing user, keeping their messages.
 */
void
pl_memory_store_add_user (PlMemoryStore *self,
                          const char    *user,
                          const char    *password)
{
  g_autoptr(GMutexLocker) locker = NULL;
  PlMemoryUser *entry;

  g_return_if_fail (PL_IS_MEMORY_STORE (self));
  g_return_if_fail (user != NULL && user[0] != '\0');
  g_return_if_fail (password != NULL);

  locker = g_mutex_locker_new (&self->mutex);
  entry = g_hash_table_lookup (self->users, user);
  if (entry == NULL)
    {
      entry = g_new0 (PlMemoryUser, 1);
      entry->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_memory_message_unref);
      g_hash_table_insert (self->users, g_strdup (user), entry);
    }
  g_free (entry->password);
  entry->password = g_strdup (password);
}

/* How many messages @user's maildrop holds now (0 for an unknown user). */
guint
pl_memory_store_count (PlMemoryStore *self,
                       const char    *user)
{
  g_autoptr(GMutexLocker) locker = NULL;
  PlMemoryUser *entry;

  g_return_val_if_fail (PL_IS_MEMORY_STORE (self), 0);
  g_return_val_if_fail (user != NULL, 0);

  locker = g_mutex_locker_new (&self->mutex);
  entry = g_hash_table_lookup (self->users, user);
  return entry != NULL ? entry->messages->len : 0;
}

GArray *
pl_memory_store_dup_sizes (PlMemoryStore *self,
                           const char    *user)
{
  g_autoptr(GMutexLocker) locker = NULL;
  PlMemoryUser *entry;
  GArray *sizes;

  g_return_val_if_fail (PL_IS_MEMORY_STORE (self), NULL);
  g_return_val_if_fail (user != NULL, NULL);

  sizes = g_array_new (FALSE, FALSE, sizeof (gsize));
  locker = g_mutex_locker_new (&self->mutex);
  entry = g_hash_table_lookup (self->users, user);
  if (entry != NULL)
    for (guint i = 0; i < entry->messages->len; i++)
      {
        PlMemoryMessage *message = g_ptr_array_index (entry->messages, i);

        g_array_append_val (sizes, message->size);
      }
  return sizes;
}

void
pl_memory_store_release_maildrop (PlMemoryStore *self,
                                  const char    *user)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  PlMemoryUser *entry = g_hash_table_lookup (self->users, user);

  if (entry != NULL)
    entry->locked = FALSE;
}

/* RFC 1939 section 6: the UPDATE state removes what DELE marked. */
void
pl_memory_store_remove_messages (PlMemoryStore    *self,
                                 const char       *user,
                                 PlMemoryMessage **messages,
                                 guint             n_messages)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->mutex);
  PlMemoryUser *entry = g_hash_table_lookup (self->users, user);

  if (entry == NULL)
    return;
  for (guint i = 0; i < n_messages; i++)
    g_ptr_array_remove (entry->messages, messages[i]);
}
