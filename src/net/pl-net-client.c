/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs a client engine over a real TCP connection until it finishes, for the CLI. */
#define G_LOG_DOMAIN "postlab-net"

#include "pl-net-client.h"

#include "pl-connection.h"
#include "pl-net-error.h"

typedef struct {
  GMainLoop         *loop;
  GSocketConnection *socket_connection;
  GError            *connect_error;
  gboolean           connect_done;
  gboolean           connect_timed_out;
  GCancellable      *cancellable;
  gboolean           closed;
  PlConnectionEnd    end;
  GError            *io_error;
} RunState;

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  RunState *state = user_data;

  state->socket_connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result,
                                                             &state->connect_error);
  state->connect_done = TRUE;
  g_main_loop_quit (state->loop);
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  RunState *state = user_data;

  state->connect_timed_out = TRUE;
  g_cancellable_cancel (state->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_closed (PlConnection    *connection,
           PlConnectionEnd  end,
           const GError    *error,
           gpointer         user_data)
{
  RunState *state = user_data;

  state->closed = TRUE;
  state->end = end;
  if (error != NULL)
    state->io_error = g_error_copy (error);
  g_main_loop_quit (state->loop);
}

static gboolean
connect_in_context (RunState      *state,
                    GMainContext  *context,
                    const char    *host,
                    guint16        port,
                    guint          timeout_ms,
                    GError       **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new (host, port);
  GSource *timeout;

  state->cancellable = g_cancellable_new ();
  timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (timeout, on_connect_timeout, state, NULL);
  g_source_attach (timeout, context);

  g_socket_client_connect_async (client, address, state->cancellable, on_connected, state);
  while (!state->connect_done)
    g_main_loop_run (state->loop);

  g_source_destroy (timeout);
  g_source_unref (timeout);
  g_clear_object (&state->cancellable);

  if (state->socket_connection != NULL)
    return TRUE;
  if (state->connect_timed_out)
    g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_TIMEOUT,
                 "No connection to %s port %u within %g s", host, port, timeout_ms / 1000.0);
  else if (g_error_matches (state->connect_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_CONNECT,
                 "Cannot connect to %s port %u: connection refused (is a server listening there?)",
                 host, port);
  else
    g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_CONNECT,
                 "Cannot connect to %s port %u: %s", host, port, state->connect_error->message);
  return FALSE;
}

gboolean
pl_net_client_run (PlEngine                *engine,
                   const char              *host,
                   guint16                  port,
                   PlTrace                 *trace,
                   const PlNetClientConfig *config,
                   GError                 **error)
{
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(PlConnection) connection = NULL;
  RunState state = { 0 };
  guint connect_ms = PL_NET_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
  guint idle_ms = PL_NET_CLIENT_DEFAULT_IDLE_TIMEOUT_MS;
  gboolean ok = FALSE;

  g_return_val_if_fail (PL_IS_ENGINE (engine), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);
  g_return_val_if_fail (PL_IS_TRACE (trace), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (config != NULL && config->connect_timeout_ms > 0)
    connect_ms = config->connect_timeout_ms;
  if (config != NULL && config->idle_timeout_ms > 0)
    idle_ms = config->idle_timeout_ms;

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  state.loop = g_main_loop_new (context, FALSE);

  if (connect_in_context (&state, context, host, port, connect_ms, error))
    {
      connection = pl_connection_new (state.socket_connection, engine, FALSE, trace);
      pl_connection_set_idle_timeout (connection, idle_ms);
      if (config != NULL)
        pl_connection_set_hop (connection, config->hop);
      pl_connection_set_closed_func (connection, on_closed, &state);
      pl_connection_start (connection);
      while (!state.closed)
        g_main_loop_run (state.loop);

      switch (state.end)
        {
        case PL_CONNECTION_END_FINISHED:
          ok = TRUE;
          break;
        case PL_CONNECTION_END_IDLE:
          g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_TIMEOUT,
                       "The server at %s port %u sent nothing for %g s", host, port, idle_ms / 1000.0);
          break;
        case PL_CONNECTION_END_ERROR:
          g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_IO,
                       "The connection to %s port %u failed: %s", host, port,
                       state.io_error != NULL ? state.io_error->message : "unknown error");
          break;
        case PL_CONNECTION_END_PEER_CLOSED:
        case PL_CONNECTION_END_SHUTDOWN:
        case PL_CONNECTION_END_NONE:
        default:
          g_set_error (error, PL_NET_ERROR, PL_NET_ERROR_CLOSED,
                       "The server at %s port %u closed the connection before the dialogue was over",
                       host, port);
          break;
        }
      pl_connection_set_closed_func (connection, NULL, NULL);
    }

  g_clear_object (&connection);
  g_clear_object (&state.socket_connection);
  g_clear_error (&state.connect_error);
  g_clear_error (&state.io_error);
  /* Let whatever GIO left behind (resolver results, closed sources) run down before the context goes. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_loop_unref (state.loop);
  g_main_context_pop_thread_default (context);
  return ok;
}

/* The same, asynchronously ------------------------------------------------------------------ */

typedef struct {
  PlEngine          *engine;
  char              *host;
  guint16            port;
  PlTrace           *trace;
  PlHop              hop;
  guint              connect_ms;
  guint              idle_ms;
  GMainContext      *context;
  GCancellable      *connect_cancellable;  /* ours: the timeout and the caller's cancellable cancel it */
  GSource           *timeout_source;
  GSource           *cancel_source;        /* watches the caller's cancellable */
  gboolean           timed_out;
  PlConnection      *connection;
} AsyncRun;

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
async_run_free (AsyncRun *run)
{
  clear_source (&run->timeout_source);
  clear_source (&run->cancel_source);
  if (run->connection != NULL)
    pl_connection_set_closed_func (run->connection, NULL, NULL);
  g_clear_object (&run->connection);
  g_clear_object (&run->connect_cancellable);
  g_clear_object (&run->engine);
  g_clear_object (&run->trace);
  g_clear_pointer (&run->context, g_main_context_unref);
  g_free (run->host);
  g_free (run);
}

/* "127.0.0.1:2526", "[::1]:2526", "mail.b.example:25": the server end as the model writes it. */
static char *
server_endpoint (const char *host,
                 guint16     port)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (host);

  if (inet != NULL && g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

/* No connection, but an attempt worth showing: a session of its own with a note saying why. */
static void
trace_failed_attempt (AsyncRun   *run,
                      const char *why)
{
  g_autofree char *server = server_endpoint (run->host, run->port);
  g_autoptr(PlSession) session = pl_session_new (pl_engine_get_protocol (run->engine), "?", server,
                                                 (double) g_get_real_time () / G_USEC_PER_SEC);
  g_autoptr(PlEvent) note = pl_event_new_note ("%s", why);

  session->hop = run->hop;
  pl_trace_add_session (run->trace, session);
  note->time = (double) g_get_real_time () / G_USEC_PER_SEC;
  pl_trace_add_event (run->trace, session, note);
  pl_trace_close_session (run->trace, session, note->time);
}

static gboolean
on_async_connect_timeout (gpointer user_data)
{
  GTask *task = user_data;
  AsyncRun *run = g_task_get_task_data (task);

  run->timed_out = TRUE;
  clear_source (&run->timeout_source);
  g_cancellable_cancel (run->connect_cancellable);
  return G_SOURCE_REMOVE;
}

/*
 * The caller's cancellable, seen from the main loop: acting inside
 * GCancellable's own signal could re-enter it (a connection closing calls
 * back, which would disconnect from the signal being emitted).
 */
static gboolean
on_async_cancelled (GCancellable *cancellable,
                    gpointer      user_data)
{
  GTask *task = user_data;
  AsyncRun *run = g_task_get_task_data (task);

  clear_source (&run->cancel_source);
  if (run->connection != NULL)
    pl_connection_shutdown (run->connection, "the dialogue was cancelled (the program is stopping)");
  else
    g_cancellable_cancel (run->connect_cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_async_closed (PlConnection    *connection,
                 PlConnectionEnd  end,
                 const GError    *error,
                 gpointer         user_data)
{
  GTask *task = user_data;
  AsyncRun *run = g_task_get_task_data (task);

  pl_connection_set_closed_func (connection, NULL, NULL);
  clear_source (&run->cancel_source);
  switch (end)
    {
    case PL_CONNECTION_END_FINISHED:
      g_task_return_boolean (task, TRUE);
      break;
    case PL_CONNECTION_END_IDLE:
      g_task_return_new_error (task, PL_NET_ERROR, PL_NET_ERROR_TIMEOUT,
                               "The server at %s port %u sent nothing for %g s", run->host, run->port,
                               run->idle_ms / 1000.0);
      break;
    case PL_CONNECTION_END_ERROR:
      g_task_return_new_error (task, PL_NET_ERROR, PL_NET_ERROR_IO,
                               "The connection to %s port %u failed: %s", run->host, run->port,
                               error != NULL ? error->message : "unknown error");
      break;
    case PL_CONNECTION_END_SHUTDOWN:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "The dialogue with %s port %u was cancelled", run->host, run->port);
      break;
    case PL_CONNECTION_END_PEER_CLOSED:
    case PL_CONNECTION_END_NONE:
    default:
      g_task_return_new_error (task, PL_NET_ERROR, PL_NET_ERROR_CLOSED,
                               "The server at %s port %u closed the connection before the dialogue was over",
                               run->host, run->port);
      break;
    }
  /* The connection (and the task's last reference) goes once this callback is over. */
  g_object_unref (task);
}

static void
on_async_connected (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  AsyncRun *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) socket_connection = NULL;
  GCancellable *cancellable = g_task_get_cancellable (task);

  socket_connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  clear_source (&run->timeout_source);

  if (socket_connection == NULL || (cancellable != NULL && g_cancellable_is_cancelled (cancellable)))
    {
      g_autofree char *why = NULL;
      GError *task_error;

      if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   "Connecting to %s port %u was cancelled", run->host, run->port);
          g_object_unref (task);
          return;
        }
      if (run->timed_out)
        {
          why = g_strdup_printf ("no connection within %g s", run->connect_ms / 1000.0);
          task_error = g_error_new (PL_NET_ERROR, PL_NET_ERROR_TIMEOUT,
                                    "No connection to %s port %u within %g s", run->host, run->port,
                                    run->connect_ms / 1000.0);
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        {
          why = g_strdup ("connection refused: no server listens there");
          task_error = g_error_new (PL_NET_ERROR, PL_NET_ERROR_CONNECT,
                                    "Cannot connect to %s port %u: connection refused", run->host, run->port);
        }
      else
        {
          why = g_strdup_printf ("could not connect: %s", error->message);
          task_error = g_error_new (PL_NET_ERROR, PL_NET_ERROR_CONNECT,
                                    "Cannot connect to %s port %u: %s", run->host, run->port, error->message);
        }
      /* In the trace before the caller hears of it: its own lines come after. */
      trace_failed_attempt (run, why);
      g_task_return_error (task, task_error);
      g_object_unref (task);
      return;
    }

  run->connection = pl_connection_new (socket_connection, run->engine, FALSE, run->trace);
  pl_connection_set_idle_timeout (run->connection, run->idle_ms);
  pl_connection_set_hop (run->connection, run->hop);
  pl_connection_set_closed_func (run->connection, on_async_closed, task);
  /* The task (still ours) stays alive until on_async_closed(). */
  pl_connection_start (run->connection);
}

void
pl_net_client_run_async (PlEngine                *engine,
                         const char              *host,
                         guint16                  port,
                         PlTrace                 *trace,
                         const PlNetClientConfig *config,
                         GCancellable            *cancellable,
                         GAsyncReadyCallback      callback,
                         gpointer                 user_data)
{
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  GTask *task;
  AsyncRun *run;

  g_return_if_fail (PL_IS_ENGINE (engine));
  g_return_if_fail (host != NULL);
  g_return_if_fail (PL_IS_TRACE (trace));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pl_net_client_run_async);
  run = g_new0 (AsyncRun, 1);
  run->engine = g_object_ref (engine);
  run->host = g_strdup (host);
  run->port = port;
  run->trace = g_object_ref (trace);
  run->connect_ms = config != NULL && config->connect_timeout_ms > 0
                      ? config->connect_timeout_ms : PL_NET_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
  run->idle_ms = config != NULL && config->idle_timeout_ms > 0
                   ? config->idle_timeout_ms : PL_NET_CLIENT_DEFAULT_IDLE_TIMEOUT_MS;
  run->hop = config != NULL ? config->hop : PL_HOP_UNKNOWN;
  run->context = g_main_context_ref_thread_default ();
  run->connect_cancellable = g_cancellable_new ();
  g_task_set_task_data (task, run, (GDestroyNotify) async_run_free);

  if (cancellable != NULL)
    {
      run->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (run->cancel_source, G_SOURCE_FUNC (on_async_cancelled), task, NULL);
      g_source_set_static_name (run->cancel_source, "[postlab] client cancelled");
      g_source_attach (run->cancel_source, run->context);
    }
  run->timeout_source = g_timeout_source_new (run->connect_ms);
  g_source_set_callback (run->timeout_source, on_async_connect_timeout, task, NULL);
  g_source_set_static_name (run->timeout_source, "[postlab] connect timeout");
  g_source_attach (run->timeout_source, run->context);

  client = g_socket_client_new ();
  address = g_network_address_new (host, port);
  /* The task's own reference is handed to the connect callback, then to the connection. */
  g_socket_client_connect_async (client, address, run->connect_cancellable, on_async_connected, task);
}

gboolean
pl_net_client_run_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pl_net_client_run_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
