/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSession: one TCP connection of a trace, and PlHost, a box in the picture. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-session.h"

G_DEFINE_BOXED_TYPE (PlHost, pl_host, pl_host_ref, pl_host_unref)
G_DEFINE_BOXED_TYPE (PlSession, pl_session, pl_session_ref, pl_session_unref)

PlHost *
pl_host_new (const char *name,
             PlHostRole  role,
             const char *owner,
             const char *address)
{
  PlHost *self;

  g_return_val_if_fail (name != NULL, NULL);

  self = g_new0 (PlHost, 1);
  self->ref_count = 1;
  self->name = g_strdup (name);
  self->role = role;
  self->owner = g_strdup (owner);
  self->address = g_strdup (address);
  return self;
}

PlHost *
pl_host_ref (PlHost *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pl_host_unref (PlHost *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->name);
  g_free (self->owner);
  g_free (self->address);
  g_free (self);
}

PlSession *
pl_session_new (PlProtocol  protocol,
                const char *client,
                const char *server,
                double      open_time)
{
  PlSession *self = g_new0 (PlSession, 1);

  self->ref_count = 1;
  self->protocol = protocol;
  self->client = g_strdup (client != NULL ? client : "");
  self->server = g_strdup (server != NULL ? server : "");
  self->open_time = open_time;
  self->close_time = -1;
  self->notes = g_ptr_array_new_with_free_func (g_free);
  return self;
}

PlSession *
pl_session_ref (PlSession *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pl_session_unref (PlSession *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->client);
  g_free (self->server);
  g_clear_pointer (&self->client_host, pl_host_unref);
  g_clear_pointer (&self->server_host, pl_host_unref);
  g_ptr_array_unref (self->notes);
  g_free (self);
}

void
pl_session_add_note (PlSession  *self,
                     const char *note)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (note != NULL);
  g_ptr_array_add (self->notes, g_strdup (note));
}

gboolean
pl_session_is_open (const PlSession *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->close_time < 0;
}
