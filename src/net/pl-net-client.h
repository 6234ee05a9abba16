/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs a client engine over a real TCP connection until it finishes, for the CLI. */
#pragma once

#include <gio/gio.h>

#include "pl-engine.h"
#include "pl-trace.h"

G_BEGIN_DECLS

#define PL_NET_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS (10 * 1000)
#define PL_NET_CLIENT_DEFAULT_IDLE_TIMEOUT_MS    (60 * 1000)

typedef struct {
  guint connect_timeout_ms;  /* 0: PL_NET_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS */
  guint idle_timeout_ms;     /* 0: PL_NET_CLIENT_DEFAULT_IDLE_TIMEOUT_MS */
  PlHop hop;                 /* the session's hop in the trace (submission, relay, access); 0: unknown */
} PlNetClientConfig;

/*
 * pl_net_client_run:
 * Connects to @host (a name or an IP literal) on @port and drives @engine
 * over the connection until the engine finishes, recording the session in
 * @trace as it goes (each event stamped with the wall-clock time). Blocks
 * the calling thread, running a main context of its own; @config may be
 * NULL for the defaults.
 *
 * Returns TRUE when the dialogue ran to its end: look at
 * pl_engine_is_failed() to learn whether the server said no (an "-ERR" is
 * transcript data, not an error here). Returns FALSE with PL_NET_ERROR_CONNECT
 * or PL_NET_ERROR_TIMEOUT when no connection could be made,
 * PL_NET_ERROR_CLOSED when the server hung up before the engine finished,
 * PL_NET_ERROR_TIMEOUT when the server went quiet for the idle timeout,
 * PL_NET_ERROR_IO when the socket failed.
 */
gboolean pl_net_client_run (PlEngine                *engine,
                            const char              *host,
                            guint16                  port,
                            PlTrace                 *trace,
                            const PlNetClientConfig *config,
                            GError                 **error);

/*
 * pl_net_client_run_async:
 * The same dialogue without blocking: connects and drives @engine in the
 * thread-default main context of the caller (a server's main loop: the
 * relay), then calls @callback there; get the outcome with
 * pl_net_client_run_finish(), which says what pl_net_client_run() returns.
 * A connection that cannot be made is still a session of @trace, with a
 * note saying why, so a transcript shows the attempt. Cancelling
 * @cancellable ends the dialogue at once through the engine's
 * connection-lost path (G_IO_ERROR_CANCELLED).
 */
void     pl_net_client_run_async  (PlEngine                *engine,
                                   const char              *host,
                                   guint16                  port,
                                   PlTrace                 *trace,
                                   const PlNetClientConfig *config,
                                   GCancellable            *cancellable,
                                   GAsyncReadyCallback      callback,
                                   gpointer                 user_data);
gboolean pl_net_client_run_finish (GAsyncResult            *result,
                                   GError                 **error);

G_END_DECLS
