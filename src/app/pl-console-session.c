/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlConsoleSession: the student at a telnet prompt, talking to the simulated mail.b.example with the real engines. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <inttypes.h>

#include <string.h>

#include <glib/gi18n.h>

#include "pl-console-session.h"
#include "pl-memory-store.h"
#include "pl-pop3-server.h"
#include "pl-smtp-server.h"
#include "pl-submission.h"
#include "pl-textbook.h"

#define DOMAIN "b.example"

struct _PlConsoleSession
{
  GObject      parent_instance;

  PlMailStore *store;
  PlTrace     *trace;
  PlTopology  *topology;
  PlDocument  *document;
  PlHost      *client_host;
  PlHost      *server_host;
  gint64       started;        /* monotonic µs: time 0 of the trace */
  guint        n_connections;

  PlEngine    *engine;         /* the server side of the open connection, or NULL */
  PlSession   *session;        /* borrowed from the trace */
  guint        delay_source;   /* output held back by the engine */
};

G_DEFINE_FINAL_TYPE (PlConsoleSession, pl_console_session, G_TYPE_OBJECT)

enum {
  SIGNAL_OUTPUT,
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static double
now_seconds (PlConsoleSession *self)
{
  return (g_get_monotonic_time () - self->started) / (double) G_USEC_PER_SEC;
}

static void
add_event (PlConsoleSession *self,
           PlEvent          *event)
{
  event->time = now_seconds (self);
  pl_trace_add_event (self->trace, self->session, event);
}

/* As the simulator says it (src/sim/pl-sim.h): "MAILBOX" SERVER USER N OCTETS. */
static void
note_mailbox (PlConsoleSession *self,
              const char       *user)
{
  g_autoptr(GArray) sizes = pl_memory_store_dup_sizes (PL_MEMORY_STORE (self->store), user);
  g_autoptr(PlEvent) note = NULL;
  g_autofree char *args = NULL;
  guint64 total = 0;

  for (guint i = 0; i < sizes->len; i++)
    total += g_array_index (sizes, gsize, i);
  /* Translators: a note in the console's transcript. */
  note = pl_event_new_note (ngettext ("mailbox %s@%s on %s holds %u message (%" PRIu64 " octets)",
                                      "mailbox %s@%s on %s holds %u messages (%" PRIu64 " octets)",
                                      sizes->len),
                            user, DOMAIN, PL_CONSOLE_SERVER_NAME, sizes->len, (uint64_t) total);
  args = g_strdup_printf ("%s %s@%s %u %" G_GUINT64_FORMAT, PL_CONSOLE_SERVER_NAME, user, DOMAIN, sizes->len, total);
  pl_event_set_verb (note, "MAILBOX", args);
  add_event (self, note);
}

static void
on_engine_event (PlEngine *engine,
                 PlEvent  *event,
                 gpointer  user_data)
{
  add_event (user_data, event);
}

/* Hands what the server wrote to the window (the telnet view), unless it holds it back. */
static void flush_output (PlConsoleSession *self);

static gboolean
on_delay_over (gpointer user_data)
{
  PlConsoleSession *self = user_data;

  self->delay_source = 0;
  flush_output (self);
  return G_SOURCE_REMOVE;
}

static void
finish_connection (PlConsoleSession *self,
                   gboolean          lost)
{
  PlProtocol protocol;

  if (self->engine == NULL)
    return;
  g_clear_handle_id (&self->delay_source, g_source_remove);
  protocol = pl_engine_get_protocol (self->engine);
  if (lost)
    pl_engine_connection_lost (self->engine);
  /* POP3's UPDATE (after QUIT) may have removed messages: the picture shows what is left. */
  else if (protocol == PL_PROTOCOL_POP3)
    note_mailbox (self, PL_TEXTBOOK_USER);
  pl_trace_close_session (self->trace, self->session, now_seconds (self));
  g_clear_object (&self->engine);
  self->session = NULL;
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
}

static void
flush_output (PlConsoleSession *self)
{
  const guint8 *data;
  gsize len = 0;
  guint delay;

  if (self->engine == NULL || self->delay_source != 0)
    return;
  delay = pl_engine_take_delay (self->engine);
  if (delay > 0)
    {
      /* A failed login is answered after a pause (RFC 1939 section 13 asks servers to slow guessing). */
      self->delay_source = g_timeout_add (delay, on_delay_over, self);
      return;
    }
  data = pl_engine_get_output (self->engine, &len);
  if (len > 0)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (data, len);

      pl_engine_consume_output (self->engine, len);
      g_signal_emit (self, signals[SIGNAL_OUTPUT], 0, bytes);
    }
  if (self->engine != NULL && pl_engine_is_finished (self->engine))
    finish_connection (self, FALSE);
}

/* The server's side of SMTP in the console: mail for b.example's users is delivered at once. */

static gboolean
smtp_check_password (PlSmtpServer *server,
                     const char   *user,
                     const char   *password,
                     gpointer      user_data)
{
  PlConsoleSession *self = user_data;
  g_auto(GStrv) parts = g_strsplit (user, "@", 2);

  return pl_mail_store_check_password (self->store, parts[0], password);
}

static PlSmtpReply *
smtp_check_recipient (PlSmtpServer *server,
                      const char   *address,
                      const char   *auth_user,
                      gboolean      trusted,
                      gpointer      user_data)
{
  PlConsoleSession *self = user_data;
  g_auto(GStrv) parts = g_strsplit (address, "@", 2);

  if (parts[1] == NULL || g_ascii_strcasecmp (parts[1], DOMAIN) != 0)
    return pl_smtp_reply_new (550, "5.7.1 <%s>: relay access denied: %s takes mail for %s only",
                              address, PL_CONSOLE_SERVER_NAME, DOMAIN);
  if (!pl_mail_store_has_user (self->store, parts[0]))
    return pl_smtp_reply_new (550, "5.1.1 <%s>: unknown user: no mailbox here by that name", address);
  return pl_smtp_reply_new (250, "2.1.5 <%s>: recipient ok, for %s's mailbox", address, parts[0]);
}

static PlSmtpReply *
smtp_deliver (PlSmtpServer         *server,
              const PlSmtpEnvelope *envelope,
              GBytes               *message,
              gpointer              user_data)
{
  PlConsoleSession *self = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);

  for (guint i = 0; i < envelope->n_recipients; i++)
    {
      g_auto(GStrv) parts = g_strsplit (envelope->recipients[i], "@", 2);
      g_autoptr(GError) error = NULL;

      if (!pl_mail_store_deliver (self->store, parts[0], data, len, &error))
        return pl_smtp_reply_new (451, "4.3.0 Could not store the message: %s", error->message);
      /* In the engine's order: the mailbox grows before the 250 that promises it. */
      note_mailbox (self, parts[0]);
    }
  return pl_smtp_reply_new (250, "2.0.0 Ok: delivered as %s", envelope->id);
}

static char *
smtp_now (PlSmtpServer *server,
          gpointer      user_data)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return pl_rfc5322_date (now);
}

static const PlSmtpServerCallbacks smtp_callbacks = {
  .check_password = smtp_check_password,
  .check_recipient = smtp_check_recipient,
  .deliver = smtp_deliver,
  .now = smtp_now,
};

static void
pl_console_session_dispose (GObject *object)
{
  PlConsoleSession *self = PL_CONSOLE_SESSION (object);

  g_clear_handle_id (&self->delay_source, g_source_remove);
  g_clear_object (&self->engine);
  self->session = NULL;

  G_OBJECT_CLASS (pl_console_session_parent_class)->dispose (object);
}

static void
pl_console_session_finalize (GObject *object)
{
  PlConsoleSession *self = PL_CONSOLE_SESSION (object);

  g_clear_object (&self->document);
  g_clear_object (&self->topology);
  g_clear_object (&self->trace);
  g_clear_object (&self->store);
  g_clear_pointer (&self->client_host, pl_host_unref);
  g_clear_pointer (&self->server_host, pl_host_unref);

  G_OBJECT_CLASS (pl_console_session_parent_class)->finalize (object);
}

static void
pl_console_session_class_init (PlConsoleSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_console_session_dispose;
  object_class->finalize = pl_console_session_finalize;

  /*
   * PlConsoleSession::output:
   * @octets: (type GBytes): what the server sent, exactly
   */
  signals[SIGNAL_OUTPUT] =
    g_signal_new ("output", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BYTES);
  /* PlConsoleSession::closed: the server closed the connection, or the student left. */
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
pl_console_session_init (PlConsoleSession *self)
{
  g_autoptr(GError) error = NULL;

  self->started = g_get_monotonic_time ();
  self->store = pl_memory_store_new ();
  if (!pl_textbook_seed (self->store, &error))
    g_warning ("Could not fill the console's mailbox: %s", error->message);
  pl_memory_store_add_user (PL_MEMORY_STORE (self->store), "alice", "crepes");

  self->trace = pl_trace_new (TRUE);
  self->topology = pl_topology_new_named ();
  pl_topology_add_host (self->topology, PL_CONSOLE_SERVER_NAME, NULL, PL_ROLE_RECEIVING_SERVER,
                        PL_TOPOLOGY_COLUMN_RECEIVING, PL_TOPOLOGY_ICON_SERVER, PL_CONSOLE_SERVER_ADDRESS);
  pl_topology_add_host (self->topology, PL_CONSOLE_CLIENT_NAME, _("you, typing as in telnet"),
                        PL_ROLE_USER_AGENT, PL_TOPOLOGY_COLUMN_READERS, PL_TOPOLOGY_ICON_LAPTOP,
                        PL_CONSOLE_CLIENT_ADDRESS);
  pl_topology_watch (self->topology, self->trace);
  self->client_host = pl_host_new (PL_CONSOLE_CLIENT_NAME, PL_ROLE_USER_AGENT, NULL, PL_CONSOLE_CLIENT_ADDRESS);
  self->server_host = pl_host_new (PL_CONSOLE_SERVER_NAME, PL_ROLE_RECEIVING_SERVER, NULL, PL_CONSOLE_SERVER_ADDRESS);
  self->document = pl_document_new (PL_DOCUMENT_CONSOLE, _("Try it yourself"), NULL, self->trace, self->topology);
}

PlConsoleSession *
pl_console_session_new (void)
{
  return g_object_new (PL_TYPE_CONSOLE_SESSION, NULL);
}

PlDocument *
pl_console_session_get_document (PlConsoleSession *self)
{
  g_return_val_if_fail (PL_IS_CONSOLE_SESSION (self), NULL);

  return self->document;
}

void
pl_console_session_connect (PlConsoleSession *self,
                            PlProtocol        protocol)
{
  g_autoptr(PlSession) session = NULL;
  g_autoptr(PlEvent) note = NULL;
  g_autofree char *client = NULL;
  g_autofree char *server = NULL;
  guint port = protocol == PL_PROTOCOL_SMTP ? 25 : 110;

  g_return_if_fail (PL_IS_CONSOLE_SESSION (self));
  g_return_if_fail (protocol == PL_PROTOCOL_POP3 || protocol == PL_PROTOCOL_SMTP);

  pl_console_session_disconnect (self);

  self->n_connections++;
  client = g_strdup_printf ("%s:%u", PL_CONSOLE_CLIENT_ADDRESS, 49151 + self->n_connections);
  server = g_strdup_printf ("%s:%u", PL_CONSOLE_SERVER_ADDRESS, port);
  session = pl_session_new (protocol, client, server, now_seconds (self));
  session->hop = protocol == PL_PROTOCOL_POP3 ? PL_HOP_ACCESS : PL_HOP_UNKNOWN;
  session->client_host = pl_host_ref (self->client_host);
  session->server_host = pl_host_ref (self->server_host);
  self->session = pl_trace_add_session (self->trace, session);

  /* What the mailbox holds as the connection opens: the picture's starting point. */
  note_mailbox (self, PL_TEXTBOOK_USER);
  /* Translators: a note in the console's transcript; %s is a host, %u a port. */
  note = pl_event_new_note (_("you open a TCP connection to %s port %u"), PL_CONSOLE_SERVER_NAME, port);
  add_event (self, note);

  if (protocol == PL_PROTOCOL_POP3)
    self->engine = pl_pop3_server_new (self->store, NULL);
  else
    {
      PlSmtpServerConfig config = {
        .hostname = PL_CONSOLE_SERVER_NAME,
        .offer_auth = TRUE,
        .client_address = PL_CONSOLE_CLIENT_ADDRESS,
      };

      self->engine = pl_smtp_server_new (&config, &smtp_callbacks, self, NULL);
    }
  pl_engine_set_event_func (self->engine, on_engine_event, self);
  pl_engine_start (self->engine);
  flush_output (self);
}

gboolean
pl_console_session_send_line (PlConsoleSession *self,
                              const char       *line)
{
  g_autofree char *wire = NULL;

  g_return_val_if_fail (PL_IS_CONSOLE_SESSION (self), FALSE);
  g_return_val_if_fail (line != NULL, FALSE);

  if (self->engine == NULL || self->delay_source != 0)
    return FALSE;
  /* As telnet sends it: the line and CRLF (RFC 5321 2.3.8, RFC 1939 section 3). */
  wire = g_strconcat (line, "\r\n", NULL);
  pl_engine_feed (self->engine, (const guint8 *) wire, strlen (wire));
  flush_output (self);
  return TRUE;
}

void
pl_console_session_disconnect (PlConsoleSession *self)
{
  g_return_if_fail (PL_IS_CONSOLE_SESSION (self));

  finish_connection (self, TRUE);
}

gboolean
pl_console_session_is_connected (PlConsoleSession *self)
{
  g_return_val_if_fail (PL_IS_CONSOLE_SESSION (self), FALSE);

  return self->engine != NULL;
}

gboolean
pl_console_session_is_waiting (PlConsoleSession *self)
{
  g_return_val_if_fail (PL_IS_CONSOLE_SESSION (self), FALSE);

  return self->delay_source != 0;
}
