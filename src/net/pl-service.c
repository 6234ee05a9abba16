/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlService: serves any server engine on real sockets, one new engine per connection. */
#define G_LOG_DOMAIN "postlab-net"

#include "pl-service.h"

#include <string.h>

#include "pl-connection.h"
#include "pl-net-error.h"

/* Many clients may knock at once (a class, a test opening 500 connections): let the kernel queue them. */
#define LISTEN_BACKLOG 512

struct _PlService
{
  GObject              parent_instance;

  PlProtocol           protocol;
  PlTrace             *trace;
  PlServiceEngineFunc  engine_func;
  PlServicePeerEngineFunc peer_engine_func;
  PlHop                hop;
  gpointer             user_data;
  GDestroyNotify       destroy;

  guint                max_connections;
  guint                idle_ms;
  char                *refusal;

  GSocketService      *socket_service;
  gulong               incoming_id;
  GPtrArray           *endpoints;    /* of char*, NULL-terminated */
  GHashTable          *connections;  /* PlConnection* set, owning a ref each */
  guint                n_accepted;
  guint                n_refused;
  gboolean             stopped;
};

G_DEFINE_FINAL_TYPE (PlService, pl_service, G_TYPE_OBJECT)

static double
wall_clock_now (void)
{
  return (double) g_get_real_time () / G_USEC_PER_SEC;
}

static void
pl_service_dispose (GObject *object)
{
  PlService *self = PL_SERVICE (object);

  pl_service_stop (self);
  if (self->socket_service != NULL)
    {
      g_clear_signal_handler (&self->incoming_id, self->socket_service);
      g_clear_object (&self->socket_service);
    }
  if (self->destroy != NULL)
    {
      GDestroyNotify destroy = self->destroy;

      self->destroy = NULL;
      destroy (self->user_data);
    }
  G_OBJECT_CLASS (pl_service_parent_class)->dispose (object);
}

static void
pl_service_finalize (GObject *object)
{
  PlService *self = PL_SERVICE (object);

  g_clear_object (&self->trace);
  g_clear_pointer (&self->connections, g_hash_table_unref);
  g_clear_pointer (&self->endpoints, g_ptr_array_unref);
  g_free (self->refusal);
  G_OBJECT_CLASS (pl_service_parent_class)->finalize (object);
}

static void
pl_service_class_init (PlServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_service_dispose;
  object_class->finalize = pl_service_finalize;
}

static void
pl_service_init (PlService *self)
{
  self->max_connections = PL_SERVICE_DEFAULT_MAX_CONNECTIONS;
  self->connections = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->endpoints = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->endpoints, NULL);
  self->refusal = g_strdup ("too many connections, try again later\r\n");
}

guint
pl_service_default_idle_timeout (PlProtocol protocol)
{
  switch (protocol)
    {
    case PL_PROTOCOL_SMTP: return 5 * 60 * 1000;
    case PL_PROTOCOL_POP3: return 10 * 60 * 1000;
    case PL_PROTOCOL_IMAP: return 30 * 60 * 1000;
    case PL_PROTOCOL_HTTP: return 60 * 1000;
    case PL_PROTOCOL_UNKNOWN:
    default:               return 10 * 60 * 1000;
    }
}

static void
on_connection_closed (PlConnection    *connection,
                      PlConnectionEnd  end,
                      const GError    *error,
                      gpointer         user_data)
{
  PlService *self = user_data;

  if (error != NULL)
    g_debug ("connection from %s failed: %s",
             pl_connection_get_remote_endpoint (connection), error->message);
  g_hash_table_remove (self->connections, connection);
}

/*
 * Turns a connection away with one line in the protocol's own words and
 * closes it, without reading anything: this path must stay cheap, because it
 * runs exactly when the server is busiest. The attempt is still a session
 * of the trace, so a lesson can show what a refused client saw.
 */
static void
refuse (PlService         *self,
        GSocketConnection *connection,
        const char        *reason)
{
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autofree char *local_endpoint = local != NULL ? pl_endpoint_from_socket_address (local) : NULL;
  g_autofree char *remote_endpoint = remote != NULL ? pl_endpoint_from_socket_address (remote) : NULL;
  gsize len = strlen (self->refusal);
  gssize written;
  PlSession *session;

  self->n_refused++;
  /* A new socket's send buffer is empty, so one short line goes out without blocking. */
  written = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (output),
                                                        self->refusal, len, NULL, NULL);
  (void) g_socket_shutdown (g_socket_connection_get_socket (connection), FALSE, TRUE, NULL);
  (void) g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);

  session = pl_trace_open_session (self->trace, self->protocol,
                                   remote_endpoint != NULL ? remote_endpoint : "?",
                                   local_endpoint != NULL ? local_endpoint : "?",
                                   wall_clock_now ());
  if (written > 0)
    {
      g_autoptr(PlEvent) event = pl_event_new (PL_EVENT_REPLY, PL_DIR_SERVER,
                                               (const guint8 *) self->refusal, (gsize) written);
      g_autofree char *status = g_strndup (self->refusal, strcspn (self->refusal, " \r\n"));

      pl_event_set_status (event, status);
      event->time = wall_clock_now ();
      pl_trace_add_event (self->trace, session, event);
    }
  {
    g_autoptr(PlEvent) note = pl_event_new_note ("connection refused: %s", reason);

    note->time = wall_clock_now ();
    pl_trace_add_event (self->trace, session, note);
  }
  pl_trace_close_session (self->trace, session, wall_clock_now ());
}

static gboolean
on_incoming (GSocketService    *socket_service,
             GSocketConnection *socket_connection,
             GObject           *source_object,
             gpointer           user_data)
{
  PlService *self = user_data;
  g_autoptr(PlEngine) engine = NULL;
  g_autoptr(PlConnection) connection = NULL;

  self->n_accepted++;
  if (self->stopped)
    {
      (void) g_io_stream_close (G_IO_STREAM (socket_connection), NULL, NULL);
      return TRUE;
    }
  if (g_hash_table_size (self->connections) >= self->max_connections)
    {
      g_autofree char *reason = g_strdup_printf ("%u connections are open, the most this server takes",
                                                 g_hash_table_size (self->connections));
      refuse (self, socket_connection, reason);
      return TRUE;
    }

  if (self->peer_engine_func != NULL)
    {
      g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (socket_connection, NULL);

      engine = self->peer_engine_func (self, remote, self->user_data);
    }
  else
    engine = self->engine_func (self, self->user_data);
  if (engine == NULL)
    {
      refuse (self, socket_connection, "the server could not start a session");
      return TRUE;
    }

  connection = pl_connection_new (socket_connection, engine, TRUE, self->trace);
  pl_connection_set_idle_timeout (connection, self->idle_ms);
  pl_connection_set_hop (connection, self->hop);
  pl_connection_set_closed_func (connection, on_connection_closed, self);
  g_hash_table_add (self->connections, g_object_ref (connection));
  pl_connection_start (connection);
  return TRUE;
}

static PlService *
pl_service_new_full (PlProtocol               protocol,
                     PlTrace                 *trace,
                     PlServiceEngineFunc      engine_func,
                     PlServicePeerEngineFunc  peer_engine_func,
                     gpointer                 user_data,
                     GDestroyNotify           destroy)
{
  PlService *self;

  self = g_object_new (PL_TYPE_SERVICE, NULL);
  self->protocol = protocol;
  self->trace = g_object_ref (trace);
  self->engine_func = engine_func;
  self->peer_engine_func = peer_engine_func;
  self->user_data = user_data;
  self->destroy = destroy;
  self->idle_ms = pl_service_default_idle_timeout (protocol);

  self->socket_service = g_socket_service_new ();
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (self->socket_service), LISTEN_BACKLOG);
  self->incoming_id = g_signal_connect (self->socket_service, "incoming",
                                        G_CALLBACK (on_incoming), self);
  return self;
}

PlService *
pl_service_new (PlProtocol           protocol,
                PlTrace             *trace,
                PlServiceEngineFunc  engine_func,
                gpointer             user_data,
                GDestroyNotify       destroy)
{
  g_return_val_if_fail (PL_IS_TRACE (trace), NULL);
  g_return_val_if_fail (engine_func != NULL, NULL);

  return pl_service_new_full (protocol, trace, engine_func, NULL, user_data, destroy);
}

/* pl_service_new() for a creator that is told the peer's address. */
PlService *
pl_service_new_with_peer (PlProtocol               protocol,
                          PlTrace                 *trace,
                          PlServicePeerEngineFunc  engine_func,
                          gpointer                 user_data,
                          GDestroyNotify           destroy)
{
  g_return_val_if_fail (PL_IS_TRACE (trace), NULL);
  g_return_val_if_fail (engine_func != NULL, NULL);

  return pl_service_new_full (protocol, trace, NULL, engine_func, user_data, destroy);
}

void
pl_service_set_hop (PlService *self,
                    PlHop      hop)
{
  g_return_if_fail (PL_IS_SERVICE (self));
  self->hop = hop;
}

PlProtocol
pl_service_get_protocol (PlService *self)
{
  g_return_val_if_fail (PL_IS_SERVICE (self), PL_PROTOCOL_UNKNOWN);
  return self->protocol;
}

void
pl_service_set_max_connections (PlService *self,
                                guint      max)
{
  g_return_if_fail (PL_IS_SERVICE (self));
  self->max_connections = max > 0 ? max : PL_SERVICE_DEFAULT_MAX_CONNECTIONS;
}

guint
pl_service_get_max_connections (PlService *self)
{
  g_return_val_if_fail (PL_IS_SERVICE (self), 0);
  return self->max_connections;
}

void
pl_service_set_idle_timeout (PlService *self,
                             guint      milliseconds)
{
  g_return_if_fail (PL_IS_SERVICE (self));
  self->idle_ms = milliseconds;
}

guint
pl_service_get_idle_timeout (PlService *self)
{
  g_return_val_if_fail (PL_IS_SERVICE (self), 0);
  return self->idle_ms;
}

void
pl_service_set_refusal (PlService  *self,
                        const char *line)
{
  g_return_if_fail (PL_IS_SERVICE (self));
  g_return_if_fail (line != NULL && *line != '\0');

  g_free (self->refusal);
  self->refusal = g_strdup (line);
}

static GInetAddress *
parse_address (const char *address)
{
  gsize len = strlen (address);

  if (len >= 2 && address[0] == '[' && address[len - 1] == ']')
    {
      g_autofree char *inner = g_strndup (address + 1, len - 2);

      return g_inet_address_new_from_string (inner);
    }
  return g_inet_address_new_from_string (address);
}

gboolean
pl_service_listen (PlService   *self,
                   const char  *address,
                   guint16      port,
                   guint16     *out_port,
                   GError     **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) wanted = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *shown = NULL;

  g_return_val_if_fail (PL_IS_SERVICE (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->stopped)
    {
      g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_UNAVAILABLE,
                   "The %s service was stopped; it cannot listen again",
                   pl_protocol_to_string (self->protocol));
      return FALSE;
    }

  inet = parse_address (address);
  if (inet == NULL)
    {
      g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_ADDRESS,
                   "'%s' is not an IP address (write it as 127.0.0.1, ::1, 192.0.2.10 or 0.0.0.0)",
                   address);
      return FALSE;
    }
  wanted = g_inet_socket_address_new (inet, port);
  {
    g_autofree char *text = g_inet_address_to_string (inet);

    shown = g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6
              ? g_strdup_printf ("[%s]:%u", text, port)
              : g_strdup_printf ("%s:%u", text, port);
  }

  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->socket_service), wanted,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &effective, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_IN_USE,
                     "Cannot listen on %s: the port is already in use by another program", shown);
      else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
        g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_UNAVAILABLE,
                     "Cannot listen on %s: %s (ports below 1024 need root)", shown,
                     local_error->message);
      else
        g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_UNAVAILABLE,
                     "Cannot listen on %s: %s", shown, local_error->message);
      return FALSE;
    }

  g_ptr_array_insert (self->endpoints, self->endpoints->len - 1,
                      pl_endpoint_from_socket_address (effective));
  if (out_port != NULL)
    *out_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  return TRUE;
}

const char *const *
pl_service_get_endpoints (PlService *self)
{
  g_return_val_if_fail (PL_IS_SERVICE (self), NULL);
  return (const char *const *) self->endpoints->pdata;
}

void
pl_service_stop (PlService *self)
{
  g_autoptr(GPtrArray) open = NULL;
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (PL_IS_SERVICE (self));

  if (self->stopped)
    return;
  self->stopped = TRUE;
  if (self->socket_service != NULL)
    {
      g_socket_service_stop (self->socket_service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->socket_service));
    }

  /* Each shutdown removes its connection from the table: walk a copy. */
  open = g_ptr_array_new_with_free_func (g_object_unref);
  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (open, g_object_ref (key));
  for (guint i = 0; i < open->len; i++)
    pl_connection_shutdown (g_ptr_array_index (open, i),
                            "the server is shutting down: connection closed");
}

guint
pl_service_get_n_connections (PlService *self)
{
  g_return_val_if_fail (PL_IS_SERVICE (self), 0);
  return g_hash_table_size (self->connections);
}

guint
pl_service_get_n_accepted (PlService *self)
{
  g_return_val_if_fail (PL_IS_SERVICE (self), 0);
  return self->n_accepted;
}

guint
pl_service_get_n_refused (PlService *self)
{
  g_return_val_if_fail (PL_IS_SERVICE (self), 0);
  return self->n_refused;
}
