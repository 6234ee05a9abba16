/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlConnection: one sans-I/O engine driven over one real socket, its events stamped and traced. */
#define G_LOG_DOMAIN "postlab-net"

#include "pl-connection.h"

#include <string.h>

struct _PlConnection
{
  GObject                 parent_instance;

  GSocketConnection      *socket_connection;
  GPollableInputStream   *input;    /* borrowed from socket_connection */
  GPollableOutputStream  *output;   /* borrowed from socket_connection */
  GMainContext           *context;
  PlEngine               *engine;
  gboolean                engine_is_server;
  PlHop                   hop;
  PlTrace                *trace;
  PlSession              *session;
  char                   *local_endpoint;
  char                   *remote_endpoint;

  guint                   idle_ms;
  gsize                   max_pending_output;
  gint64                  last_activity;  /* monotonic, µs */

  GSource                *read_source;
  GSource                *write_source;
  GSource                *hold_source;
  GSource                *idle_source;

  gboolean                started;
  gboolean                holding;   /* the engine asked for its output to be held back */
  gboolean                peer_eof;
  gboolean                closed;
  PlConnectionEnd         end;

  /* Events of the current engine call (or of a held reply), not yet in the trace. */
  GPtrArray              *pending_events;

  PlConnectionClosedFunc  closed_func;
  gpointer                closed_data;

  /*
   * What was read and not yet fed to the engine: buffer[unfed_start ..
   * unfed_end). The socket is read only once all of it was fed.
   */
  guint8                 *buffer;   /* PL_CONNECTION_READ_BUFFER_SIZE octets */
  gsize                   unfed_start;
  gsize                   unfed_end;
};

G_DEFINE_FINAL_TYPE (PlConnection, pl_connection, G_TYPE_OBJECT)

static void pump (PlConnection *self);

static double
wall_clock_now (void)
{
  return (double) g_get_real_time () / G_USEC_PER_SEC;
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_source_unref (*source);
  *source = NULL;
}

static void
clear_all_sources (PlConnection *self)
{
  clear_source (&self->read_source);
  clear_source (&self->write_source);
  clear_source (&self->hold_source);
  clear_source (&self->idle_source);
}

static void
pl_connection_dispose (GObject *object)
{
  PlConnection *self = PL_CONNECTION (object);

  clear_all_sources (self);
  G_OBJECT_CLASS (pl_connection_parent_class)->dispose (object);
}

static void
pl_connection_finalize (GObject *object)
{
  PlConnection *self = PL_CONNECTION (object);

  if (self->engine != NULL)
    pl_engine_set_event_func (self->engine, NULL, NULL);
  g_clear_object (&self->socket_connection);
  g_clear_object (&self->engine);
  g_clear_object (&self->trace);
  g_clear_pointer (&self->session, pl_session_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->pending_events, g_ptr_array_unref);
  g_free (self->local_endpoint);
  g_free (self->remote_endpoint);
  g_free (self->buffer);
  G_OBJECT_CLASS (pl_connection_parent_class)->finalize (object);
}

static void
pl_connection_class_init (PlConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_connection_dispose;
  object_class->finalize = pl_connection_finalize;
}

static void
pl_connection_init (PlConnection *self)
{
  self->max_pending_output = PL_CONNECTION_DEFAULT_MAX_PENDING_OUTPUT;
  self->pending_events = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref);
  self->buffer = g_malloc (PL_CONNECTION_READ_BUFFER_SIZE);
}

/*
 * pl_endpoint_from_socket_address:
 * DESIGN.md writes endpoints as "address:port", with IPv6 addresses in
 * brackets (RFC 3986 section 3.2.2) so the port stays unambiguous.
 */
char *
pl_endpoint_from_socket_address (GSocketAddress *address)
{
  GInetAddress *inet;
  g_autofree char *text = NULL;
  guint16 port;

  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (address), NULL);

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  text = g_inet_address_to_string (inet);
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", text, port);
  return g_strdup_printf ("%s:%u", text, port);
}

static char *
endpoint_of (GSocketConnection *connection,
             gboolean           local)
{
  g_autoptr(GSocketAddress) address = NULL;
  char *endpoint = NULL;

  address = local ? g_socket_connection_get_local_address (connection, NULL)
                  : g_socket_connection_get_remote_address (connection, NULL);
  if (address != NULL)
    endpoint = pl_endpoint_from_socket_address (address);
  return endpoint != NULL ? endpoint : g_strdup ("?");
}

PlConnection *
pl_connection_new (GSocketConnection *socket_connection,
                   PlEngine          *engine,
                   gboolean           engine_is_server,
                   PlTrace           *trace)
{
  PlConnection *self;
  GInputStream *input;
  GOutputStream *output;

  g_return_val_if_fail (G_IS_SOCKET_CONNECTION (socket_connection), NULL);
  g_return_val_if_fail (PL_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (PL_IS_TRACE (trace), NULL);

  input = g_io_stream_get_input_stream (G_IO_STREAM (socket_connection));
  output = g_io_stream_get_output_stream (G_IO_STREAM (socket_connection));
  g_return_val_if_fail (G_IS_POLLABLE_INPUT_STREAM (input), NULL);
  g_return_val_if_fail (G_IS_POLLABLE_OUTPUT_STREAM (output), NULL);

  self = g_object_new (PL_TYPE_CONNECTION, NULL);
  self->socket_connection = g_object_ref (socket_connection);
  self->input = G_POLLABLE_INPUT_STREAM (input);
  self->output = G_POLLABLE_OUTPUT_STREAM (output);
  self->context = g_main_context_ref_thread_default ();
  self->engine = g_object_ref (engine);
  self->engine_is_server = engine_is_server;
  self->trace = g_object_ref (trace);
  self->local_endpoint = endpoint_of (socket_connection, TRUE);
  self->remote_endpoint = endpoint_of (socket_connection, FALSE);
  return self;
}

void
pl_connection_set_idle_timeout (PlConnection *self,
                                guint         milliseconds)
{
  g_return_if_fail (PL_IS_CONNECTION (self));
  self->idle_ms = milliseconds;
}

void
pl_connection_set_max_pending_output (PlConnection *self,
                                      gsize         max_octets)
{
  g_return_if_fail (PL_IS_CONNECTION (self));
  self->max_pending_output = MAX (max_octets, 1);
}

void
pl_connection_set_hop (PlConnection *self,
                       PlHop         hop)
{
  g_return_if_fail (PL_IS_CONNECTION (self));
  g_return_if_fail (!self->started);
  self->hop = hop;
}

void
pl_connection_set_closed_func (PlConnection           *self,
                               PlConnectionClosedFunc  func,
                               gpointer                user_data)
{
  g_return_if_fail (PL_IS_CONNECTION (self));
  self->closed_func = func;
  self->closed_data = user_data;
}

PlEngine *
pl_connection_get_engine (PlConnection *self)
{
  g_return_val_if_fail (PL_IS_CONNECTION (self), NULL);
  return self->engine;
}

PlSession *
pl_connection_get_session (PlConnection *self)
{
  g_return_val_if_fail (PL_IS_CONNECTION (self), NULL);
  return self->session;
}

PlConnectionEnd
pl_connection_get_end (PlConnection *self)
{
  g_return_val_if_fail (PL_IS_CONNECTION (self), PL_CONNECTION_END_NONE);
  return self->end;
}

const char *
pl_connection_get_local_endpoint (PlConnection *self)
{
  g_return_val_if_fail (PL_IS_CONNECTION (self), NULL);
  return self->local_endpoint;
}

const char *
pl_connection_get_remote_endpoint (PlConnection *self)
{
  g_return_val_if_fail (PL_IS_CONNECTION (self), NULL);
  return self->remote_endpoint;
}

/* The direction of what this side sends: a server engine's replies are "S". */
static PlDirection
outgoing_direction (PlConnection *self)
{
  return self->engine_is_server ? PL_DIR_SERVER : PL_DIR_CLIENT;
}

/*
 * Engines hand events out during a call; they wait here until the driver
 * knows whether the engine also asked for its output to be held back, so
 * that a held reply is stamped with the time it really went out.
 */
static void
on_engine_event (PlEngine *engine,
                 PlEvent  *event,
                 gpointer  user_data)
{
  PlConnection *self = user_data;

  event->time = wall_clock_now ();
  g_ptr_array_add (self->pending_events, pl_event_ref (event));
}

static void
queue_note (PlConnection *self,
            const char   *text)
{
  PlEvent *note = pl_event_new_note ("%s", text);

  note->time = wall_clock_now ();
  g_ptr_array_add (self->pending_events, note);
}

static void
flush_events (PlConnection *self,
              gboolean      restamp_outgoing)
{
  g_autoptr(GPtrArray) events = NULL;
  double now = wall_clock_now ();

  if (self->pending_events->len == 0)
    return;
  /* Swap first: adding to the trace runs listeners, which may call back in. */
  events = g_steal_pointer (&self->pending_events);
  self->pending_events = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref);

  for (guint i = 0; i < events->len; i++)
    {
      PlEvent *event = g_ptr_array_index (events, i);

      if (restamp_outgoing && event->dir == outgoing_direction (self))
        event->time = MAX (event->time, now);
      if (self->session != NULL)
        pl_trace_add_event (self->trace, self->session, event);
    }
}

static void
touch (PlConnection *self)
{
  self->last_activity = g_get_monotonic_time ();
}

static void
close_connection (PlConnection    *self,
                  PlConnectionEnd  end,
                  const GError    *error)
{
  gsize unsent = 0;

  if (self->closed)
    return;
  self->closed = TRUE;
  self->end = end;
  clear_all_sources (self);

  if (!pl_engine_is_finished (self->engine))
    {
      /* RFC 1939 section 6: without QUIT there is no UPDATE state, so nothing is deleted. */
      pl_engine_connection_lost (self->engine);
      (void) pl_engine_take_delay (self->engine);
    }
  self->holding = FALSE;
  flush_events (self, TRUE);

  pl_engine_get_output (self->engine, &unsent);
  if (unsent > 0 && self->session != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%" G_GSIZE_FORMAT " octets were never sent: "
                                               "the connection ended first", unsent);
      queue_note (self, text);
      flush_events (self, FALSE);
    }

  (void) g_io_stream_close (G_IO_STREAM (self->socket_connection), NULL, NULL);
  if (self->session != NULL)
    pl_trace_close_session (self->trace, self->session, wall_clock_now ());

  g_debug ("connection %s -> %s ended (%d)", self->remote_endpoint, self->local_endpoint, end);
  if (self->closed_func != NULL)
    self->closed_func (self, end, error, self->closed_data);
}

static void
close_with_error (PlConnection *self,
                  const GError *error)
{
  g_autofree char *text = NULL;

  /* A write failing after the peer's FIN is the peer leaving, not a fault. */
  if (self->peer_eof)
    {
      close_connection (self, PL_CONNECTION_END_PEER_CLOSED, NULL);
      return;
    }
  text = g_strdup_printf ("connection failed: %s", error->message);
  queue_note (self, text);
  close_connection (self, PL_CONNECTION_END_ERROR, error);
}

static gboolean
on_hold_done (gpointer user_data)
{
  PlConnection *self = user_data;

  clear_source (&self->hold_source);
  self->holding = FALSE;
  g_object_ref (self);
  flush_events (self, TRUE);
  pump (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
hold_output (PlConnection *self,
             guint         milliseconds)
{
  clear_source (&self->hold_source);
  self->holding = TRUE;
  self->hold_source = g_timeout_source_new (milliseconds);
  g_source_set_callback (self->hold_source, on_hold_done, self, NULL);
  g_source_set_static_name (self->hold_source, "[postlab] held output");
  g_source_attach (self->hold_source, self->context);
}

/* After each call into the engine: honour a requested delay, and trace what it said. */
static void
after_engine_call (PlConnection *self)
{
  guint delay = pl_engine_take_delay (self->engine);

  if (delay > 0 && !self->closed)
    hold_output (self, delay);
  if (!self->holding)
    flush_events (self, FALSE);
}

static gboolean
on_readable (GObject  *stream,
             gpointer  user_data)
{
  PlConnection *self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  g_object_ref (self);
  g_assert (self->unfed_start == self->unfed_end);
  n = g_pollable_input_stream_read_nonblocking (self->input, self->buffer,
                                                PL_CONNECTION_READ_BUFFER_SIZE, NULL, &error);
  if (n > 0)
    {
      touch (self);
      self->unfed_start = 0;
      self->unfed_end = (gsize) n;
      pump (self);
    }
  else if (n == 0)
    {
      self->peer_eof = TRUE;
      clear_source (&self->read_source);
      queue_note (self, self->engine_is_server ? "the client closed the connection"
                                               : "the server closed the connection");
      pl_engine_connection_lost (self->engine);
      after_engine_call (self);
      pump (self);
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    close_with_error (self, error);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_writable (GObject  *stream,
             gpointer  user_data)
{
  PlConnection *self = user_data;

  g_object_ref (self);
  /* pump() makes a new source when it still has something to write. */
  clear_source (&self->write_source);
  pump (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_idle_check (PlConnection *self,
                     guint         milliseconds);

static gboolean
on_idle_check (gpointer user_data)
{
  PlConnection *self = user_data;
  gint64 idle_us = g_get_monotonic_time () - self->last_activity;
  gint64 limit_us = (gint64) self->idle_ms * 1000;
  g_autofree char *text = NULL;

  clear_source (&self->idle_source);
  if (idle_us < limit_us)
    {
      schedule_idle_check (self, (guint) ((limit_us - idle_us) / 1000) + 1);
      return G_SOURCE_REMOVE;
    }

  g_object_ref (self);
  text = g_strdup_printf ("nothing moved for %g s: %s", self->idle_ms / 1000.0,
                          self->engine_is_server ? "the server closes the connection (idle timeout)"
                                                 : "giving up waiting for the server");
  queue_note (self, text);
  close_connection (self, PL_CONNECTION_END_IDLE, NULL);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_idle_check (PlConnection *self,
                     guint         milliseconds)
{
  clear_source (&self->idle_source);
  self->idle_source = g_timeout_source_new (milliseconds);
  g_source_set_callback (self->idle_source, on_idle_check, self, NULL);
  g_source_set_static_name (self->idle_source, "[postlab] idle timeout");
  g_source_attach (self->idle_source, self->context);
}

/* Sends what the socket takes now. Returns FALSE when that ended the connection. */
static gboolean
write_output (PlConnection *self)
{
  if (self->holding)
    return TRUE;
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gsize len;
      const guint8 *data = pl_engine_get_output (self->engine, &len);
      gssize n;

      if (len == 0)
        return TRUE;
      n = g_pollable_output_stream_write_nonblocking (self->output, data, len, NULL, &error);
      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return TRUE;
          close_with_error (self, error);
          return FALSE;
        }
      pl_engine_consume_output (self->engine, (gsize) n);
      touch (self);
    }
}

/*
 * Feeds the engine the read octets up to and including the next line feed
 * (or all of them, when none is left). One line at a time, so that a peer
 * pipelining many commands gets back-pressure after each answer, not after
 * a whole buffer of them: the output one feed makes stays one answer.
 */
static void
feed_one_line (PlConnection *self)
{
  const guint8 *start = self->buffer + self->unfed_start;
  gsize available = self->unfed_end - self->unfed_start;
  const guint8 *lf = memchr (start, '\n', available);
  gsize len = lf != NULL ? (gsize) (lf - start) + 1 : available;

  self->unfed_start += len;
  if (self->unfed_start == self->unfed_end)
    self->unfed_start = self->unfed_end = 0;
  pl_engine_feed (self->engine, start, len);
  after_engine_call (self);
}

/*
 * Moves octets as far as the socket lets us, then decides what to wait for.
 * Input waits (unfed, then unread in the kernel) while output is held back,
 * while too much output is pending (a peer that does not read cannot make
 * us buffer without bound), and once the engine is finished; the
 * connection closes when a finished engine's output is all sent.
 */
static void
pump (PlConnection *self)
{
  gsize pending = 0;
  gboolean finished;
  gboolean want_read;
  gboolean want_write;

  for (;;)
    {
      if (self->closed || !write_output (self))
        return;
      pl_engine_get_output (self->engine, &pending);
      finished = pl_engine_is_finished (self->engine);
      if (!self->holding && pending == 0 && finished)
        {
          close_connection (self, self->peer_eof ? PL_CONNECTION_END_PEER_CLOSED
                                                 : PL_CONNECTION_END_FINISHED, NULL);
          return;
        }
      if (self->holding || finished || pending >= self->max_pending_output
          || self->unfed_start == self->unfed_end)
        break;
      feed_one_line (self);
    }

  want_write = !self->holding && pending > 0;
  want_read = !self->holding && !finished && !self->peer_eof && pending < self->max_pending_output
              && self->unfed_start == self->unfed_end;

  if (want_write && self->write_source == NULL)
    {
      self->write_source = g_pollable_output_stream_create_source (self->output, NULL);
      g_source_set_callback (self->write_source, G_SOURCE_FUNC (on_writable), self, NULL);
      g_source_set_static_name (self->write_source, "[postlab] socket writable");
      g_source_attach (self->write_source, self->context);
    }
  else if (!want_write)
    clear_source (&self->write_source);

  if (want_read && self->read_source == NULL)
    {
      self->read_source = g_pollable_input_stream_create_source (self->input, NULL);
      g_source_set_callback (self->read_source, G_SOURCE_FUNC (on_readable), self, NULL);
      g_source_set_static_name (self->read_source, "[postlab] socket readable");
      g_source_attach (self->read_source, self->context);
    }
  else if (!want_read)
    clear_source (&self->read_source);
}

void
pl_connection_start (PlConnection *self)
{
  PlProtocol protocol;

  g_return_if_fail (PL_IS_CONNECTION (self));
  g_return_if_fail (!self->started);

  self->started = TRUE;
  protocol = pl_engine_get_protocol (self->engine);
  /* Filled in before the trace has it, so that the listeners' session line shows the hop. */
  if (self->engine_is_server)
    self->session = pl_session_new (protocol, self->remote_endpoint, self->local_endpoint,
                                    wall_clock_now ());
  else
    self->session = pl_session_new (protocol, self->local_endpoint, self->remote_endpoint,
                                    wall_clock_now ());
  self->session->hop = self->hop;
  /* Our reference keeps it after the trace lets an unretained session go. */
  pl_trace_add_session (self->trace, self->session);

  pl_engine_set_event_func (self->engine, on_engine_event, self);
  touch (self);
  if (self->idle_ms > 0)
    schedule_idle_check (self, self->idle_ms);

  g_object_ref (self);
  pl_engine_start (self->engine);
  after_engine_call (self);
  pump (self);
  g_object_unref (self);
}

void
pl_connection_shutdown (PlConnection *self,
                        const char   *reason)
{
  g_return_if_fail (PL_IS_CONNECTION (self));

  if (self->closed)
    return;
  g_object_ref (self);
  if (reason != NULL)
    queue_note (self, reason);
  close_connection (self, PL_CONNECTION_END_SHUTDOWN, NULL);
  g_object_unref (self);
}
