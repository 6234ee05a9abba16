/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMailPolicy: what a mail server of the world accepts over SMTP, shared by `serve` and the simulator. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-mail-policy.h"

#include <string.h>

#include "pl-submission.h"

struct _PlMailPolicy
{
  PlWorld             *world;
  const PlWorldServer *server;
  PlMailStore         *store;
};

PlMailPolicy *
pl_mail_policy_new (PlWorld             *world,
                    const PlWorldServer *server,
                    PlMailStore         *store)
{
  PlMailPolicy *self;

  g_return_val_if_fail (PL_IS_WORLD (world), NULL);
  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (PL_IS_MAIL_STORE (store), NULL);

  self = g_new0 (PlMailPolicy, 1);
  self->world = world;
  self->server = server;
  self->store = store;
  return self;
}

void
pl_mail_policy_free (PlMailPolicy *self)
{
  g_free (self);
}

void
pl_mail_split_address (const char  *address,
                       char       **local,
                       const char **domain)
{
  const char *at;

  g_return_if_fail (address != NULL);
  g_return_if_fail (local != NULL && domain != NULL);

  at = strrchr (address, '@');
  if (at == NULL)
    {
      *local = g_strdup (address);
      *domain = NULL;
      return;
    }
  *local = g_strndup (address, (gsize) (at - address));
  *domain = at + 1;
}

gboolean
pl_mail_policy_is_own_domain (PlMailPolicy *self,
                              const char   *domain)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return domain == NULL || g_ascii_strcasecmp (domain, self->server->domain) == 0;
}

char *
pl_mail_policy_resolve_user (PlMailPolicy *self,
                             const char   *local)
{
  const PlWorldDomain *domain;
  g_autofree char *lower = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (local != NULL, NULL);

  if (local[0] == '\0')
    return NULL;
  if (pl_mail_store_has_user (self->store, local))
    return g_strdup (local);
  lower = g_ascii_strdown (local, -1);
  if (pl_mail_store_has_user (self->store, lower))
    return g_steal_pointer (&lower);
  if (g_str_equal (lower, "postmaster"))
    {
      domain = pl_world_lookup_domain (self->world, self->server->domain);
      if (domain != NULL && domain->postmaster != NULL
          && pl_mail_store_has_user (self->store, domain->postmaster))
        return g_strdup (domain->postmaster);
    }
  return NULL;
}

gboolean
pl_mail_policy_check_password (PlMailPolicy *self,
                               const char   *user,
                               const char   *password)
{
  g_autofree char *local = NULL;
  const char *domain;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (user != NULL && password != NULL, FALSE);

  pl_mail_split_address (user, &local, &domain);
  if (!pl_mail_policy_is_own_domain (self, domain))
    return FALSE;
  return pl_mail_store_check_password (self->store, local, password);
}

/*
 * The replies are put together with g_strconcat(), not printf: a simulation
 * asks this for every recipient of every message.
 */
guint
pl_mail_policy_check_recipient (PlMailPolicy  *self,
                                const char    *address,
                                gboolean       may_relay,
                                char         **text)
{
  g_autofree char *local = NULL;
  const char *domain;
  const PlWorldDomain *known;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (address != NULL, 0);
  g_return_val_if_fail (text != NULL, 0);

  pl_mail_split_address (address, &local, &domain);
  if (pl_mail_policy_is_own_domain (self, domain))
    {
      g_autofree char *user = pl_mail_policy_resolve_user (self, local);

      if (user == NULL)
        {
          *text = g_strconcat ("5.1.1 <", address, ">: unknown user: no mailbox here by that name", NULL);
          return 550;
        }
      *text = g_strconcat ("2.1.5 <", address, ">: recipient ok, for ", user, "'s mailbox", NULL);
      return 250;
    }

  /* Not ours: relaying. RFC 5321 3.6.2: only for those the server knows, never for anyone. */
  if (!pl_world_server_relays (self->server))
    {
      *text = g_strconcat ("5.7.1 <", address, ">: relay access denied: ", self->server->hostname,
                           " takes mail for ", self->server->domain, " only", NULL);
      return 550;
    }
  if (!may_relay)
    {
      *text = g_strconcat ("5.7.1 <", address, ">: relay access denied: log in (AUTH) to send mail "
                           "to other domains", NULL);
      return 550;
    }
  known = pl_world_lookup_domain (self->world, domain);
  if (known == NULL)
    {
      *text = g_strconcat ("5.1.2 <", address, ">: no mail server for ", domain, " in this world", NULL);
      return 550;
    }
  *text = g_strconcat ("2.1.5 <", address, ">: recipient ok, will relay to ", known->server, NULL);
  return 250;
}

guint
pl_mail_policy_sort_recipients (PlMailPolicy       *self,
                                const char *const  *recipients,
                                GPtrArray          *local_users,
                                GPtrArray          *remote,
                                char              **text)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (recipients != NULL, 0);
  g_return_val_if_fail (local_users != NULL && remote != NULL, 0);
  g_return_val_if_fail (text != NULL, 0);

  for (guint i = 0; recipients[i] != NULL; i++)
    {
      const char *address = recipients[i];
      g_autofree char *local = NULL;
      const char *domain;

      pl_mail_split_address (address, &local, &domain);
      if (pl_mail_policy_is_own_domain (self, domain))
        {
          char *user = pl_mail_policy_resolve_user (self, local);

          /* Accepted at RCPT, gone by the end of the data: the client may try again (RFC 5321 4.2.2). */
          if (user == NULL)
            {
              *text = g_strconcat ("4.3.0 <", address, ">: the mailbox went away; try again later", NULL);
              return 451;
            }
          if (!g_ptr_array_find_with_equal_func (local_users, user, g_str_equal, NULL))
            g_ptr_array_add (local_users, user);
          else
            g_free (user);
        }
      else
        g_ptr_array_add (remote, (gpointer) address);
    }
  if (remote->len > 0 && !pl_world_server_relays (self->server))
    {
      *text = g_strconcat ("4.3.0 ", self->server->hostname, " keeps no queue: cannot relay", NULL);
      return 451;
    }
  return 0;
}

GBytes *
pl_mail_policy_complete_message (PlMailPolicy  *self,
                                 GBytes        *message,
                                 gboolean       submission,
                                 GDateTime     *now,
                                 const char    *id,
                                 char         **added)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  if (added != NULL)
    *added = NULL;
  /* RFC 6409 8.2, 8.3: a submission is completed here; relayed mail is passed on as it came (RFC 5321 6.4). */
  if (!submission)
    return g_bytes_ref (message);
  g_return_val_if_fail (now != NULL && id != NULL, NULL);
  return pl_submission_complete (message, now, id, self->server->hostname, added);
}

char *
pl_mail_policy_accepted_text (const char *id,
                              gboolean    queued)
{
  g_return_val_if_fail (id != NULL, NULL);
  return g_strconcat (queued ? "2.0.0 Ok: queued as " : "2.0.0 Ok: delivered as ", id, NULL);
}
