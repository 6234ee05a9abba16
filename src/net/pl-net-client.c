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
