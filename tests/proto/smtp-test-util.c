/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the SMTP engine tests: a small world behind the server's callbacks. */

#include "smtp-test-util.h"

#include <string.h>

#define LOCAL_DOMAIN "b.example"

static void
delivery_free (PlTestSmtpDelivery *d)
{
  g_free (d->id);
  g_free (d->helo);
  g_free (d->client_address);
  g_free (d->mail_from);
  g_strfreev (d->recipients);
  g_free (d->auth_user);
  g_bytes_unref (d->message);
  g_free (d);
}

PlTestSmtpWorld *
pl_test_smtp_world_new (void)
{
  PlTestSmtpWorld *world = g_new0 (PlTestSmtpWorld, 1);

  world->deliveries = g_ptr_array_new_with_free_func ((GDestroyNotify) delivery_free);
  return world;
}

void
pl_test_smtp_world_free (PlTestSmtpWorld *world)
{
  if (world == NULL)
    return;
  g_ptr_array_unref (world->deliveries);
  pl_smtp_reply_free (world->deliver_reply);
  g_free (world);
}

static gboolean
world_check_password (PlSmtpServer *server,
                      const char   *user,
                      const char   *password,
                      gpointer      user_data)
{
  PlTestSmtpWorld *world = user_data;

  world->n_password_checks++;
  return (strcmp (user, "alice") == 0 && strcmp (password, "secret") == 0)
      || (strcmp (user, "bob") == 0 && strcmp (password, "hungry") == 0);
}

static PlSmtpReply *
world_check_sender (PlSmtpServer *server,
                    const char   *address,
                    const char   *auth_user,
                    gpointer      user_data)
{
  /* A sender the world will not hear of, to reach the refusal path. */
  if (g_ascii_strcasecmp (address, "spammer@bad.example") == 0)
    return pl_smtp_reply_new (550, "Sender address rejected: go away");
  return NULL;
}

static PlSmtpReply *
world_check_recipient (PlSmtpServer *server,
                       const char   *address,
                       const char   *auth_user,
                       gboolean      trusted,
                       gpointer      user_data)
{
  PlTestSmtpWorld *world = user_data;
  const char *at = strrchr (address, '@');

  world->n_recipient_checks++;
  if (at == NULL)
    return g_ascii_strcasecmp (address, "postmaster") == 0 ? NULL
           : pl_smtp_reply_new (550, "%s ... No such user here", address);
  if (g_ascii_strcasecmp (at + 1, LOCAL_DOMAIN) == 0)
    {
      g_autofree char *user = g_ascii_strdown (address, at - address);

      if (strcmp (user, "bob") == 0 || strcmp (user, "postmaster") == 0)
        return NULL;
      if (strcmp (user, "full") == 0)
        return pl_smtp_reply_new (452, "%s ... Mailbox full, try again later", address);
      return pl_smtp_reply_new (550, "%s ... No such user here", address);
    }
  if (trusted || auth_user != NULL)
    return pl_smtp_reply_new (250, "%s ... Recipient ok (will relay)", address);
  return pl_smtp_reply_new (550, "%s ... Relay access denied", address);
}

static PlSmtpReply *
world_deliver (PlSmtpServer         *server,
               const PlSmtpEnvelope *envelope,
               GBytes               *message,
               gpointer              user_data)
{
  PlTestSmtpWorld *world = user_data;
  PlTestSmtpDelivery *d;

  if (world->deliver_null)
    return NULL;
  if (world->deliver_reply != NULL)
    return pl_smtp_reply_copy (world->deliver_reply);

  g_assert_cmpuint (envelope->n_recipients, ==, g_strv_length ((char **) envelope->recipients));
  d = g_new0 (PlTestSmtpDelivery, 1);
  d->id = g_strdup (envelope->id);
  d->helo = g_strdup (envelope->helo);
  d->client_address = g_strdup (envelope->client_address);
  d->mail_from = g_strdup (envelope->mail_from);
  d->recipients = g_strdupv ((char **) envelope->recipients);
  d->auth_user = g_strdup (envelope->auth_user);
  d->trusted = envelope->trusted;
  d->body_8bitmime = envelope->body_8bitmime;
  d->message = g_bytes_ref (message);
  g_ptr_array_add (world->deliveries, d);
  return pl_smtp_reply_new (250, "Message accepted for delivery");
}

static char *
world_now (PlSmtpServer *server,
           gpointer      user_data)
{
  return g_strdup (PL_TEST_SMTP_NOW);
}

static char *
world_new_id (PlSmtpServer *server,
              gpointer      user_data)
{
  PlTestSmtpWorld *world = user_data;

  if (world->next_id == 0)
    return NULL;
  return g_strdup_printf ("Q%u", world->next_id++);
}

static const PlSmtpServerCallbacks world_callbacks = {
  .check_password = world_check_password,
  .check_sender = world_check_sender,
  .check_recipient = world_check_recipient,
  .deliver = world_deliver,
  .now = world_now,
  .new_id = world_new_id,
};

PlSmtpServerConfig
pl_test_smtp_default_config (void)
{
  return (PlSmtpServerConfig) {
    .hostname = PL_TEST_SMTP_HOSTNAME,
    .offer_auth = TRUE,
    .auth_failure_delay_ms = 250,
    .client_address = "127.0.0.1",
  };
}

const PlSmtpServerCallbacks *
pl_test_smtp_world_callbacks (void)
{
  return &world_callbacks;
}

PlEngine *
pl_test_smtp_server_new (PlTestSmtpWorld          *world,
                         const PlSmtpServerConfig *config)
{
  PlSmtpServerConfig fallback = pl_test_smtp_default_config ();

  return pl_smtp_server_new (config != NULL ? config : &fallback, &world_callbacks, world, NULL);
}

char *
pl_test_smtp_delivered_text (PlTestSmtpWorld *world,
                             guint            index)
{
  PlTestSmtpDelivery *d;

  g_assert_cmpuint (index, <, world->deliveries->len);
  d = g_ptr_array_index (world->deliveries, index);
  return g_strndup (g_bytes_get_data (d->message, NULL), g_bytes_get_size (d->message));
}
