/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlConnection: one sans-I/O engine driven over one real socket, its events stamped and traced. */
#pragma once

#include <gio/gio.h>

#include "pl-engine.h"
#include "pl-trace.h"

G_BEGIN_DECLS

/* Each connection reads into a buffer of this size, so memory per connection stays bounded. */
#define PL_CONNECTION_READ_BUFFER_SIZE 16384
/* Reading stops while more than this many octets wait to be sent (back-pressure). */
#define PL_CONNECTION_DEFAULT_MAX_PENDING_OUTPUT (64 * 1024)

/* Why a connection ended. */
typedef enum {
  PL_CONNECTION_END_NONE = 0,     /* still open */
  PL_CONNECTION_END_FINISHED,     /* the engine finished and all its output was sent */
  PL_CONNECTION_END_PEER_CLOSED,  /* the peer closed its side first */
  PL_CONNECTION_END_ERROR,        /* the socket failed (reset, broken pipe) */
  PL_CONNECTION_END_IDLE,         /* nothing moved for the idle timeout */
  PL_CONNECTION_END_SHUTDOWN,     /* the driver closed it (a server stopping) */
} PlConnectionEnd;

#define PL_TYPE_CONNECTION (pl_connection_get_type ())
G_DECLARE_FINAL_TYPE (PlConnection, pl_connection, PL, CONNECTION, GObject)

/*
 * Called once, when the connection has ended and its session is closed in
 * the trace. @error is set for PL_CONNECTION_END_ERROR (borrowed).
 */
typedef void (*PlConnectionClosedFunc) (PlConnection    *connection,
                                        PlConnectionEnd  end,
                                        const GError    *error,
                                        gpointer         user_data);

/*
 * pl_connection_new:
 * Drives @engine over @socket_connection in the thread-default main context
 * of the caller. @engine_is_server says which end of the session the local
 * socket is (a server engine: the peer is the client). Each event the engine
 * hands out is stamped with the wall-clock time and added to @trace, in a
 * session that opens in pl_connection_start() and closes when the
 * connection ends. Nothing happens until pl_connection_start().
 */
PlConnection *pl_connection_new                  (GSocketConnection      *socket_connection,
                                                  PlEngine               *engine,
                                                  gboolean                engine_is_server,
                                                  PlTrace                *trace);
/* 0 (the default) for none. The timer restarts whenever octets move either way. */
void          pl_connection_set_idle_timeout     (PlConnection           *self,
                                                  guint                   milliseconds);
void          pl_connection_set_max_pending_output (PlConnection         *self,
                                                  gsize                   max_octets);
/* Which hop of the mail path the session is (submission, relay, access); set before pl_connection_start(). */
void          pl_connection_set_hop              (PlConnection           *self,
                                                  PlHop                   hop);
void          pl_connection_set_closed_func      (PlConnection           *self,
                                                  PlConnectionClosedFunc  func,
                                                  gpointer                user_data);
/*
 * pl_connection_start:
 * Opens the session in the trace and starts the engine (a server engine
 * sends its greeting). From here on the connection runs by itself until the
 * engine finishes (once its output is sent), the peer goes away, the idle
 * timeout passes or pl_connection_shutdown() is called.
 */
void          pl_connection_start                (PlConnection           *self);
/*
 * pl_connection_shutdown:
 * Ends the connection now: the engine's connection-lost path runs (a POP3
 * server deletes nothing), output not yet sent is dropped, and @reason, when
 * not NULL, is recorded as a note in the session.
 */
void          pl_connection_shutdown             (PlConnection           *self,
                                                  const char             *reason);
PlEngine     *pl_connection_get_engine           (PlConnection           *self);
/* The session in the trace (borrowed), NULL before pl_connection_start(). */
PlSession    *pl_connection_get_session          (PlConnection           *self);
PlConnectionEnd pl_connection_get_end            (PlConnection           *self);
/* "127.0.0.1:40312", "[::1]:1110": the endpoints as the model writes them. */
const char   *pl_connection_get_local_endpoint   (PlConnection           *self);
const char   *pl_connection_get_remote_endpoint  (PlConnection           *self);

/* "addr:port" for IPv4, "[addr]:port" for IPv6 (DESIGN.md's endpoint form). Returns NULL for non-IP addresses. */
char         *pl_endpoint_from_socket_address    (GSocketAddress         *address);

G_END_DECLS
