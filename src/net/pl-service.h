/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlService: serves any server engine on real sockets, one new engine per connection. */
#pragma once

#include <gio/gio.h>

#include "pl-engine.h"
#include "pl-trace.h"

G_BEGIN_DECLS

#define PL_SERVICE_DEFAULT_MAX_CONNECTIONS 200

#define PL_TYPE_SERVICE (pl_service_get_type ())
G_DECLARE_FINAL_TYPE (PlService, pl_service, PL, SERVICE, GObject)

/*
 * Makes the server engine for one new connection (a new reference). Return
 * NULL to turn the connection away with the refusal line.
 */
typedef PlEngine *(*PlServiceEngineFunc) (PlService *service,
                                          gpointer   user_data);

/*
 * The same, for a creator that needs to know who connects (to trust a
 * network, to name the client in a Received: header): @remote is the peer's
 * address (borrowed; may be NULL when the socket cannot tell).
 */
typedef PlEngine *(*PlServicePeerEngineFunc) (PlService      *service,
                                              GSocketAddress *remote,
                                              gpointer        user_data);

/*
 * pl_service_new:
 * A service for @protocol that records every connection as a session in
 * @trace. @engine_func makes a new server engine per connection; @destroy,
 * if not NULL, frees @user_data with the service. The limits start at
 * their defaults: PL_SERVICE_DEFAULT_MAX_CONNECTIONS connections at once,
 * the protocol's idle timeout (pl_service_default_idle_timeout()). Nothing
 * listens until pl_service_listen().
 */
PlService  *pl_service_new                 (PlProtocol           protocol,
                                            PlTrace             *trace,
                                            PlServiceEngineFunc  engine_func,
                                            gpointer             user_data,
                                            GDestroyNotify       destroy);
/* pl_service_new() for a creator that is told the peer's address. */
PlService  *pl_service_new_with_peer       (PlProtocol               protocol,
                                            PlTrace                 *trace,
                                            PlServicePeerEngineFunc  engine_func,
                                            gpointer                 user_data,
                                            GDestroyNotify           destroy);
/*
 * The idle timeout the protocol's RFC asks for, in ms: SMTP 5 min (RFC 5321
 * 4.5.3.2.7), POP3 10 min (RFC 1939 section 3), IMAP 30 min (RFC 3501 5.4),
 * HTTP 1 min (no RFC figure; what servers commonly use).
 */
guint       pl_service_default_idle_timeout (PlProtocol          protocol);

PlProtocol  pl_service_get_protocol        (PlService           *self);
/* Which hop of the mail path the sessions of this service are; PL_HOP_UNKNOWN by default. */
void        pl_service_set_hop             (PlService           *self,
                                            PlHop                hop);
/* Connections beyond @max at once get the refusal line and are closed. 0 means the default. */
void        pl_service_set_max_connections (PlService           *self,
                                            guint                max);
guint       pl_service_get_max_connections (PlService           *self);
/* In ms; 0 for none. Applies to connections accepted from now on. */
void        pl_service_set_idle_timeout    (PlService           *self,
                                            guint                milliseconds);
guint       pl_service_get_idle_timeout    (PlService           *self);
/*
 * The line (with its CRLF) sent to a connection refused because of the
 * limit, in the protocol's own words: "-ERR [SYS/TEMP] too many connections,
 * try again later\r\n" (POP3, RFC 3206), "421 ..." (SMTP), "* BYE ..." (IMAP).
 */
void        pl_service_set_refusal         (PlService           *self,
                                            const char          *line);

/*
 * pl_service_listen:
 * Listens on @address (an IPv4 or IPv6 literal; an IPv6 one may be in
 * brackets) and @port (0: any free port). On success, @out_port, when not
 * NULL, receives the port actually bound. Fails with PL_NET_ERROR_ADDRESS
 * for an address that is not an IP literal, PL_NET_ERROR_IN_USE when the
 * port is taken, PL_NET_ERROR_UNAVAILABLE when the address is not on this
 * machine (::1 with IPv6 switched off), each message naming address and port.
 */
gboolean    pl_service_listen              (PlService           *self,
                                            const char          *address,
                                            guint16              port,
                                            guint16             *out_port,
                                            GError             **error);
/* The endpoints listened on, "127.0.0.1:1110", "[::1]:1110", in the order added. */
const char *const *pl_service_get_endpoints (PlService          *self);

/*
 * pl_service_stop:
 * Stops listening and ends every open connection through its engine's
 * connection-lost path (a POP3 session not yet QUIT deletes nothing), each
 * session noting why. The service can't listen again afterwards.
 */
void        pl_service_stop                (PlService           *self);

/* Connections open now. */
guint       pl_service_get_n_connections   (PlService           *self);
/* Connections accepted (served or refused) and refused since the service began. */
guint       pl_service_get_n_accepted      (PlService           *self);
guint       pl_service_get_n_refused       (PlService           *self);

G_END_DECLS
