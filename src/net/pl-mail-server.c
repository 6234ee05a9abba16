/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMailServer: one mail server of the world on real sockets: its store, queue, relay, policy and services. */
#define G_LOG_DOMAIN "postlab-net"

#include "pl-mail-server.h"

#include <string.h>

#include "pl-data-folder.h"
#include "pl-mail-policy.h"
#include "pl-net-error.h"
#include "pl-pop3-server.h"
#include "pl-smtp-server.h"
#include "pl-submission.h"

/* RFC 3206 section 4: SYS/TEMP says the trouble is passing and the client may retry. */
#define POP3_REFUSAL "-ERR [SYS/TEMP] too many connections, try again later\r\n"
/* RFC 5321 3.8 and 4.2.3: 421, the service is not available now; RFC 3463 4.3.2: system not accepting. */
#define SMTP_REFUSAL "421 4.3.2 Too many connections, try again later\r\n"

struct _PlMailServer
{
  GObject              parent_instance;

  PlWorld             *world;
  const PlWorldServer *server;      /* borrowed from the world */
  char                *data_dir;
  PlTrace             *trace;
  PlMailServerConfig   config;
  char                *setup_report;

  PlMailStore         *store;
  PlMailPolicy        *policy;      /* what it accepts, shared with the simulator */
  PlQueue             *queue;       /* a sending server's */
  PlRelay             *relay;       /* a sending server's */
  PlService           *smtp;
  PlService           *pop3;

  PlNetLog             log;
  GMainContext        *context;
};

G_DEFINE_FINAL_TYPE (PlMailServer, pl_mail_server, G_TYPE_OBJECT)

/* Lines for a person, each starting with the server's host name. */
#define say(self, ...)  pl_net_log (&(self)->log, FALSE, (self)->server->hostname, __VA_ARGS__)
#define warn(self, ...) pl_net_log (&(self)->log, TRUE, (self)->server->hostname, __VA_ARGS__)

/* The relay's lines already start with its host name: they go to the same place as ours. */
static void
on_relay_log (gboolean    warning,
              const char *line,
              gpointer    user_data)
{
  PlMailServer *self = user_data;

  pl_net_log_line (&self->log, warning, line);
}

/* SMTP policy (src/store/pl-mail-policy.c, the simulator's too) --------------------------------- */

static gboolean
smtp_check_password (PlSmtpServer *server,
                     const char   *user,
                     const char   *password,
                     gpointer      user_data)
{
  PlMailServer *self = user_data;

  return pl_mail_policy_check_password (self->policy, user, password);
}

static PlSmtpReply *
smtp_check_recipient (PlSmtpServer *server,
                      const char   *address,
                      const char   *auth_user,
                      gboolean      trusted,
                      gpointer      user_data)
{
  PlMailServer *self = user_data;
  char *text = NULL;
  guint code = pl_mail_policy_check_recipient (self->policy, address, auth_user != NULL || trusted, &text);

  return pl_smtp_reply_new_take (code, text);
}

static char *
smtp_now (PlSmtpServer *server,
          gpointer      user_data)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  return pl_rfc5322_date (now);
}

/* The id in the Received: header is also the queue file's name: a student can match them. */
static char *
smtp_new_id (PlSmtpServer *server,
             gpointer      user_data)
{
  return pl_queue_make_id ();
}

/*
 * What a delivery has to say, and the relay's turn, wait for the main loop:
 * by then the session's transcript shows the message and the 250, so the
 * lines come out in the order things happened.
 */
typedef struct {
  PlMailServer *server;
  GPtrArray    *lines;
  PlQueueEntry *entry;
} AfterDelivery;

static void
after_delivery_free (gpointer data)
{
  AfterDelivery *after = data;

  g_object_unref (after->server);
  g_ptr_array_unref (after->lines);
  g_clear_pointer (&after->entry, pl_queue_entry_unref);
  g_free (after);
}

static gboolean
on_after_delivery (gpointer data)
{
  AfterDelivery *after = data;
  PlMailServer *self = after->server;

  for (guint i = 0; i < after->lines->len; i++)
    say (self, "%s", (const char *) g_ptr_array_index (after->lines, i));
  if (after->entry != NULL && self->relay != NULL)
    pl_relay_submit (self->relay, after->entry);
  return G_SOURCE_REMOVE;
}

static void
schedule_after_delivery (PlMailServer *self,
                         GPtrArray    *lines,
                         PlQueueEntry *entry)
{
  AfterDelivery *after = g_new0 (AfterDelivery, 1);
  g_autoptr(GSource) source = g_idle_source_new ();

  after->server = g_object_ref (self);
  after->lines = g_ptr_array_ref (lines);
  after->entry = entry != NULL ? pl_queue_entry_ref (entry) : NULL;
  /* As urgent as socket events: the relay's first try should not wait behind anything. */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, on_after_delivery, after, after_delivery_free);
  g_source_set_static_name (source, "[postlab] after delivery");
  g_source_attach (source, self->context);
}

static gboolean
deliver_local (PlMailServer  *self,
               const char    *user,
               GBytes        *message,
               GError       **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);

  return pl_mail_store_deliver (self->store, user, data, len, error);
}

static PlSmtpReply *
smtp_deliver (PlSmtpServer         *server,
              const PlSmtpEnvelope *envelope,
              GBytes               *message,
              gpointer              user_data)
{
  PlMailServer *self = user_data;
  g_autoptr(GBytes) stored = NULL;
  g_autoptr(GPtrArray) local_users = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) remote = g_ptr_array_new ();
  g_autoptr(PlQueueEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *added = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  char *text = NULL;
  guint refusal;

  refusal = pl_mail_policy_sort_recipients (self->policy, envelope->recipients, local_users, remote, &text);
  if (refusal != 0)
    return pl_smtp_reply_new_take (refusal, text);
  stored = pl_mail_policy_complete_message (self->policy, message, envelope->auth_user != NULL || envelope->trusted,
                                            now, envelope->id, &added);

  /* The queue first: it can be taken back if a local delivery then fails. */
  if (remote->len > 0)
    {
      g_ptr_array_add (remote, NULL);
      entry = pl_queue_add (self->queue, envelope->id, envelope->mail_from,
                            (const char *const *) remote->pdata, stored, g_get_real_time (), &error);
      g_ptr_array_remove_index (remote, remote->len - 1);
      if (entry == NULL)
        {
          warn (self, "could not queue a message from <%s>: %s", envelope->mail_from, error->message);
          return pl_smtp_reply_new_take (451, g_strdup (PL_MAIL_POLICY_NOT_STORED_TEXT));
        }
    }
  for (guint i = 0; i < local_users->len; i++)
    {
      const char *user = g_ptr_array_index (local_users, i);

      if (!deliver_local (self, user, stored, &error))
        {
          warn (self, "could not deliver a message from <%s> to %s: %s", envelope->mail_from, user,
               error->message);
          if (entry != NULL)
            {
              g_autoptr(GError) remove_error = NULL;

              if (!pl_queue_remove (self->queue, entry, &remove_error))
                warn (self, "could not take %s back out of the queue: %s", entry->id, remove_error->message);
            }
          return pl_smtp_reply_new_take (451, g_strdup (PL_MAIL_POLICY_NOT_STORED_TEXT));
        }
    }

  if (local_users->len > 0)
    {
      g_autofree char *users = NULL;

      g_ptr_array_add (local_users, NULL);
      users = g_strjoinv (", ", (char **) local_users->pdata);
      g_ptr_array_remove_index (local_users, local_users->len - 1);
      g_ptr_array_add (lines, g_strdup_printf ("%s from <%s> delivered to %s's mailbox%s%s%s",
                                               envelope->id, envelope->mail_from, users,
                                               added != NULL ? " (added " : "", added != NULL ? added : "",
                                               added != NULL ? ")" : ""));
    }
  if (entry != NULL)
    {
      g_autofree char *who = NULL;

      g_ptr_array_add (remote, NULL);
      who = g_strjoinv (", ", (char **) remote->pdata);
      g_ptr_array_add (lines, g_strdup_printf ("%s from <%s> queued for %s%s%s%s", entry->id,
                                               envelope->mail_from, who,
                                               added != NULL ? " (added " : "", added != NULL ? added : "",
                                               added != NULL ? ")" : ""));
    }
  schedule_after_delivery (self, lines, entry);
  return pl_smtp_reply_new_take (250, pl_mail_policy_accepted_text (entry != NULL ? entry->id : envelope->id,
                                                                    entry != NULL));
}

static const PlSmtpServerCallbacks smtp_callbacks = {
  .check_password = smtp_check_password,
  .check_sender = NULL,
  .check_recipient = smtp_check_recipient,
  .deliver = smtp_deliver,
  .now = smtp_now,
  .new_id = smtp_new_id,
};

/* RFC 5321 4.4: TCP-info is an address literal, "[127.0.0.1]" or "[IPv6:::1]". */
static char *
address_literal (GInetAddress *inet)
{
  g_autofree char *text = g_inet_address_to_string (inet);

  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[IPv6:%s]", text);
  return g_strdup_printf ("[%s]", text);
}

static PlEngine *
make_smtp_engine (PlService      *service,
                  GSocketAddress *remote,
                  gpointer        user_data)
{
  PlMailServer *self = user_data;
  PlSmtpServerConfig config = { 0 };
  g_autofree char *client = NULL;
  gboolean trusted = FALSE;

  if (remote != NULL && G_IS_INET_SOCKET_ADDRESS (remote))
    {
      GInetAddress *inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));

      client = address_literal (inet);
      trusted = pl_world_server_trusts (self->server, inet);
    }
  config.hostname = self->server->hostname;
  config.max_message_size = self->server->max_message_size;
  config.offer_auth = TRUE;
  config.auth_failure_delay_ms = self->config.auth_delay_ms;
  config.client_address = client;
  config.peer_trusted = trusted;
  /* The engine is freed with its connection, always before the server (pl_mail_server_stop()). */
  return pl_smtp_server_new (&config, &smtp_callbacks, self, NULL);
}

static PlEngine *
make_pop3_engine (PlService *service,
                  gpointer   user_data)
{
  PlMailServer *self = user_data;
  PlPop3ServerConfig config = { 0 };

  config.greeting = NULL;
  config.auth_failure_delay_ms = self->config.auth_delay_ms;
  config.max_auth_failures = PL_POP3_SERVER_DEFAULT_MAX_AUTH_FAILURES;
  return pl_pop3_server_new (self->store, &config);
}

/* A bounce for one of our own users, from the relay. */
static gboolean
relay_deliver (const char  *address,
               GBytes      *message,
               gpointer     user_data,
               GError     **error)
{
  PlMailServer *self = user_data;
  g_autofree char *local = NULL;
  g_autofree char *user = NULL;
  const char *domain;

  pl_mail_split_address (address, &local, &domain);
  user = pl_mail_policy_resolve_user (self->policy, local);
  if (user == NULL)
    user = pl_mail_policy_resolve_user (self->policy, "postmaster");
  if (user == NULL)
    {
      g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_USER,
                   "%s has no mailbox here, and there is no postmaster to give it to", address);
      return FALSE;
    }
  return deliver_local (self, user, message, error);
}

/* The object ------------------------------------------------------------------------------------ */

static void
pl_mail_server_dispose (GObject *object)
{
  PlMailServer *self = PL_MAIL_SERVER (object);

  pl_mail_server_stop (self);
  g_clear_object (&self->smtp);
  g_clear_object (&self->pop3);
  /* Sessions under way may keep the relay a moment longer: it must not call back into us then. */
  if (self->relay != NULL)
    pl_relay_set_log_func (self->relay, NULL, NULL);
  g_clear_object (&self->relay);
  G_OBJECT_CLASS (pl_mail_server_parent_class)->dispose (object);
}

static void
pl_mail_server_finalize (GObject *object)
{
  PlMailServer *self = PL_MAIL_SERVER (object);

  g_clear_pointer (&self->policy, pl_mail_policy_free);
  g_clear_object (&self->queue);
  g_clear_object (&self->store);
  g_clear_object (&self->trace);
  g_clear_object (&self->world);
  g_free (self->data_dir);
  g_free (self->setup_report);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (pl_mail_server_parent_class)->finalize (object);
}

static void
pl_mail_server_class_init (PlMailServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_mail_server_dispose;
  object_class->finalize = pl_mail_server_finalize;
}

static void
pl_mail_server_init (PlMailServer *self)
{
  self->context = g_main_context_ref_thread_default ();
}

PlMailServer *
pl_mail_server_new (PlWorld                  *world,
                    const char               *hostname,
                    const char               *data_dir,
                    PlTrace                  *trace,
                    const PlMailServerConfig *config,
                    GError                  **error)
{
  g_autoptr(PlMailServer) self = NULL;
  const PlWorldServer *server;

  g_return_val_if_fail (PL_IS_WORLD (world), NULL);
  g_return_val_if_fail (hostname != NULL, NULL);
  g_return_val_if_fail (data_dir != NULL, NULL);
  g_return_val_if_fail (PL_IS_TRACE (trace), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  server = pl_world_lookup_server (world, hostname);
  if (server == NULL)
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_NOT_FOUND,
                   "The world (%s) has no server or domain called %s", pl_world_get_source (world), hostname);
      return NULL;
    }

  self = g_object_new (PL_TYPE_MAIL_SERVER, NULL);
  self->world = g_object_ref (world);
  self->server = server;
  self->data_dir = g_strdup (data_dir);
  self->trace = g_object_ref (trace);
  if (config != NULL)
    self->config = *config;

  self->store = pl_data_folder_open_domain (data_dir, world, server->domain, &self->setup_report, error);
  if (self->store == NULL)
    return NULL;
  self->policy = pl_mail_policy_new (world, server, self->store);
  if (pl_world_server_relays (server))
    {
      g_autofree char *queue_path = pl_data_folder_dup_queue_path (data_dir, server->domain);

      self->queue = pl_queue_new (queue_path, error);
      if (self->queue == NULL)
        return NULL;
      if (pl_queue_get_n_cleaned (self->queue) > 0)
        {
          g_autofree char *note = g_strdup_printf ("removed %u partial file%s a crash left in %s/tmp "
                                                   "(never acknowledged, so nothing is lost)",
                                                   pl_queue_get_n_cleaned (self->queue),
                                                   pl_queue_get_n_cleaned (self->queue) == 1 ? "" : "s",
                                                   queue_path);
          char *report = self->setup_report != NULL
                           ? g_strdup_printf ("%s. %s", self->setup_report, note)
                           : g_strdup_printf ("%s: %s", server->hostname, note);

          g_free (self->setup_report);
          self->setup_report = report;
        }
      self->relay = pl_relay_new (world, server->hostname, self->queue, trace, relay_deliver, self);
      pl_relay_set_log_func (self->relay, on_relay_log, self);
    }
  return g_steal_pointer (&self);
}

void
pl_mail_server_set_log_func (PlMailServer        *self,
                             PlMailServerLogFunc  func,
                             gpointer             user_data)
{
  g_return_if_fail (PL_IS_MAIL_SERVER (self));
  self->log.func = func;
  self->log.data = user_data;
}

const char *
pl_mail_server_get_setup_report (PlMailServer *self)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), NULL);
  return self->setup_report;
}

static GInetAddress *
parse_ip (const char *address)
{
  gsize len = strlen (address);

  if (len >= 2 && address[0] == '[' && address[len - 1] == ']')
    {
      g_autofree char *inner = g_strndup (address + 1, len - 2);

      return g_inet_address_new_from_string (inner);
    }
  return g_inet_address_new_from_string (address);
}

/*
 * Listens on each of the server's addresses in turn. With port 0 the
 * kernel picks a port for the first address and the others reuse it, so
 * one port number names the service.
 */
static gboolean
listen_all (PlMailServer  *self,
            PlService     *service,
            PlProtocol     protocol,
            GError       **error)
{
  char **addresses = self->server->listen;
  int port = pl_world_server_get_port (self->server, protocol);
  guint16 bound = (guint16) port;
  guint n_listening = 0;

  for (guint i = 0; addresses[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GInetAddress) inet = parse_ip (addresses[i]);
      guint16 got = 0;

      if (!pl_service_listen (service, addresses[i], bound, &got, &local_error))
        {
          if (self->config.ipv6_optional && inet != NULL
              && g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6
              && g_error_matches (local_error, PL_NET_ERROR, PL_NET_ERROR_UNAVAILABLE)
              && (n_listening > 0 || addresses[i + 1] != NULL))
            {
              warn (self, "%s; going on without IPv6", local_error->message);
              continue;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      n_listening++;
      bound = got;
    }
  if (n_listening == 0)
    {
      g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_UNAVAILABLE,
                   "%s could listen on none of its addresses", self->server->hostname);
      return FALSE;
    }
  if (port == 0)
    return pl_world_set_port (self->world, self->server->hostname, protocol, bound, error);
  return TRUE;
}

static PlService *
make_service (PlMailServer *self,
              PlProtocol    protocol)
{
  PlService *service;

  if (protocol == PL_PROTOCOL_SMTP)
    {
      service = pl_service_new_with_peer (protocol, self->trace, make_smtp_engine, self, NULL);
      pl_service_set_refusal (service, SMTP_REFUSAL);
      /* A sending server's clients are user agents submitting; a receiving server's, other servers relaying. */
      pl_service_set_hop (service, pl_world_server_relays (self->server) ? PL_HOP_SUBMISSION : PL_HOP_RELAY);
    }
  else
    {
      service = pl_service_new (protocol, self->trace, make_pop3_engine, self, NULL);
      pl_service_set_refusal (service, POP3_REFUSAL);
      pl_service_set_hop (service, PL_HOP_ACCESS);
    }
  if (self->config.max_connections > 0)
    pl_service_set_max_connections (service, self->config.max_connections);
  if (self->config.idle_timeout_ms > 0)
    pl_service_set_idle_timeout (service, self->config.idle_timeout_ms);
  return service;
}

gboolean
pl_mail_server_listen (PlMailServer  *self,
                       GError       **error)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (self->smtp == NULL && self->pop3 == NULL, FALSE);

  if (self->server->smtp_port >= 0)
    {
      self->smtp = make_service (self, PL_PROTOCOL_SMTP);
      if (!listen_all (self, self->smtp, PL_PROTOCOL_SMTP, error))
        return FALSE;
    }
  if (self->server->pop3_port >= 0)
    {
      self->pop3 = make_service (self, PL_PROTOCOL_POP3);
      if (!listen_all (self, self->pop3, PL_PROTOCOL_POP3, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
pl_mail_server_start_relay (PlMailServer  *self,
                            GError       **error)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->relay == NULL)
    return TRUE;
  return pl_relay_start (self->relay, error);
}

void
pl_mail_server_stop (PlMailServer *self)
{
  g_return_if_fail (PL_IS_MAIL_SERVER (self));

  if (self->smtp != NULL)
    pl_service_stop (self->smtp);
  if (self->pop3 != NULL)
    pl_service_stop (self->pop3);
  if (self->relay != NULL)
    pl_relay_stop (self->relay);
}

const PlWorldServer *
pl_mail_server_get_world_server (PlMailServer *self)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), NULL);
  return self->server;
}

const char *
pl_mail_server_get_hostname (PlMailServer *self)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), NULL);
  return self->server->hostname;
}

const char *
pl_mail_server_get_domain (PlMailServer *self)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), NULL);
  return self->server->domain;
}

PlMailStore *
pl_mail_server_get_store (PlMailServer *self)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), NULL);
  return self->store;
}

PlQueue *
pl_mail_server_get_queue (PlMailServer *self)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), NULL);
  return self->queue;
}

PlRelay *
pl_mail_server_get_relay (PlMailServer *self)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), NULL);
  return self->relay;
}

PlService *
pl_mail_server_get_service (PlMailServer *self,
                            PlProtocol    protocol)
{
  g_return_val_if_fail (PL_IS_MAIL_SERVER (self), NULL);

  switch (protocol)
    {
    case PL_PROTOCOL_SMTP: return self->smtp;
    case PL_PROTOCOL_POP3: return self->pop3;
    case PL_PROTOCOL_IMAP:
    case PL_PROTOCOL_HTTP:
    case PL_PROTOCOL_UNKNOWN:
    default:               return NULL;
    }
}
