/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMailServer: one mail server of the world on real sockets: its store, queue, relay, policy and services. */
#pragma once

#include <gio/gio.h>

#include "pl-mail-store.h"
#include "pl-queue.h"
#include "pl-relay.h"
#include "pl-service.h"
#include "pl-trace.h"
#include "pl-world.h"

G_BEGIN_DECLS

typedef struct {
  guint    auth_delay_ms;    /* held back before answering a wrong password (POP3 -ERR, SMTP 535) */
  guint    max_connections;  /* per service; 0: PL_SERVICE_DEFAULT_MAX_CONNECTIONS */
  guint    idle_timeout_ms;  /* per connection; 0: each protocol's RFC figure */
  gboolean ipv6_optional;    /* an IPv6 listen address that is unavailable is skipped (with a warning) */
} PlMailServerConfig;

/* One line for a person: what the server did with a message; @warning for trouble to act on. */
typedef PlNetLogFunc PlMailServerLogFunc;

#define PL_TYPE_MAIL_SERVER (pl_mail_server_get_type ())
G_DECLARE_FINAL_TYPE (PlMailServer, pl_mail_server, PL, MAIL_SERVER, GObject)

/*
 * pl_mail_server_new:
 * The server @hostname of @world (a host name or its domain), keeping its
 * mail in @data_dir (pl_data_folder_open_domain(): DATA/DOMAIN/..., seeded
 * from the world when new) and recording every session in @trace. A sending
 * server also opens its queue (DATA/DOMAIN/queue) and makes its relay.
 * Nothing listens until pl_mail_server_listen().
 *
 * Its SMTP policy (RFC 5321 3.6, 4.1.1.3; the check_recipient and deliver
 * callbacks of PlSmtpServer):
 *  - a recipient of its own domain must be a user of its store ("550 5.1.1
 *    unknown user" otherwise), postmaster@ going to the domain's postmaster
 *    (RFC 5321 4.5.1); the message goes into that user's Maildir;
 *  - a recipient of another domain is taken only by a sending server, only
 *    from an authenticated client (AUTH PLAIN or LOGIN against its users)
 *    or one on its trusted networks ("550 5.7.1 relay access denied"
 *    otherwise: never an open relay), and only when the world has a server
 *    for that domain ("550 5.1.2"); the message goes into the queue;
 *  - a submission (an authenticated or trusted client) without Date: or
 *    Message-ID: gets them (RFC 6409 8.2, 8.3);
 *  - 250 after the final "." comes only once every local delivery and the
 *    queue entry are fsynced and renamed into place.
 */
PlMailServer        *pl_mail_server_new          (PlWorld                  *world,
                                                  const char               *hostname,
                                                  const char               *data_dir,
                                                  PlTrace                  *trace,
                                                  const PlMailServerConfig *config,
                                                  GError                  **error);
void                 pl_mail_server_set_log_func (PlMailServer             *self,
                                                  PlMailServerLogFunc       func,
                                                  gpointer                  user_data);
/* What setting up the data folder did ("New data folder ... added user bob ..."), or NULL. */
const char          *pl_mail_server_get_setup_report (PlMailServer         *self);

/*
 * pl_mail_server_listen:
 * Starts the server's SMTP and POP3 services (those the world gives it a
 * port for) on each of the world's listen addresses for it. With port 0 the
 * system picks a port for the first address, the others reuse it, and the
 * world is told (pl_world_set_port()), so that relays find it. Fails with
 * PL_NET_ERROR (as pl_service_listen()) naming address and port.
 */
gboolean             pl_mail_server_listen       (PlMailServer             *self,
                                                  GError                  **error);
/*
 * pl_mail_server_start_relay:
 * A sending server's relay starts working its queue (what is in it from
 * before is tried now). Does nothing for a receiving server.
 */
gboolean             pl_mail_server_start_relay  (PlMailServer             *self,
                                                  GError                  **error);
/* Stops listening, ends every open connection (nothing half-received is kept), stops the relay. */
void                 pl_mail_server_stop         (PlMailServer             *self);

const PlWorldServer *pl_mail_server_get_world_server (PlMailServer         *self);
const char          *pl_mail_server_get_hostname (PlMailServer             *self);
const char          *pl_mail_server_get_domain   (PlMailServer             *self);
PlMailStore         *pl_mail_server_get_store    (PlMailServer             *self);
/* The queue and relay of a sending server; NULL for a receiving one. */
PlQueue             *pl_mail_server_get_queue    (PlMailServer             *self);
PlRelay             *pl_mail_server_get_relay    (PlMailServer             *self);
/* The service of @protocol (SMTP, POP3), or NULL when the server runs none; after pl_mail_server_listen(). */
PlService           *pl_mail_server_get_service  (PlMailServer             *self,
                                                  PlProtocol                protocol);

G_END_DECLS
