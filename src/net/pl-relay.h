/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlRelay: a sending server's queue runner: passes queued mail on by SMTP, retries, bounces. */
#pragma once

#include <gio/gio.h>

#include "pl-net-log.h"
#include "pl-queue.h"
#include "pl-trace.h"
#include "pl-world.h"

G_BEGIN_DECLS

/*
 * One line for a person, about what happened to a message: relayed,
 * deferred, bounced; @warning for trouble of the server's own (a queue
 * file it could not write), which a person should act on.
 */
typedef PlNetLogFunc PlRelayLogFunc;
/*
 * Delivers @message into the mailbox behind @address, an address of the
 * relay's own domain (a bounce for one of its own users), durably. Returns
 * FALSE with @error when it could not.
 */
typedef gboolean (*PlRelayDeliverFunc) (const char    *address,
                                        GBytes        *message,
                                        gpointer       user_data,
                                        GError       **error);

#define PL_TYPE_RELAY (pl_relay_get_type ())
G_DECLARE_FINAL_TYPE (PlRelay, pl_relay, PL, RELAY, GObject)

/*
 * pl_relay_new:
 * The queue runner of @hostname (a sending server of @world), working
 * @queue on the thread-default main context of the caller. Each session
 * is recorded in @trace with the hop "relay". @deliver puts bounces for
 * the server's own users into their mailboxes. Nothing happens until
 * pl_relay_start().
 *
 * How a message moves (RFC 5321 4.5.4.1 and 6.1; DESIGN.md's store and
 * forward): its recipients are grouped by domain, and each domain gets one
 * SMTP session with the server the world names for it (PlSmtpClient over a
 * real connection). A recipient the next server takes (250 after the
 * final ".") leaves the queue at that moment, before QUIT; one it refuses
 * for good (5xx), or whose domain has no server in the world, is bounced
 * to the sender at once. The others (4xx, no connection) stay queued and
 * are tried again after the world's retry intervals; when the try after
 * the last interval fails too, they are bounced. A bounce goes into the
 * sender's mailbox when the sender is of this server's domain, else into
 * the queue with the null sender; a message with the null sender is never
 * bounced (RFC 5321 6.2): it is dropped, and the log says so.
 */
PlRelay  *pl_relay_new          (PlWorld             *world,
                                 const char          *hostname,
                                 PlQueue             *queue,
                                 PlTrace             *trace,
                                 PlRelayDeliverFunc   deliver,
                                 gpointer             deliver_data);
void      pl_relay_set_log_func (PlRelay             *self,
                                 PlRelayLogFunc       func,
                                 gpointer             user_data);
/*
 * pl_relay_add_local_server:
 * Says that the server @hostname runs in this process and records its side
 * of each session in the relay's trace. The relay then leaves its own side
 * of its sessions with that server out of the trace, so that one TCP
 * connection stays one session (DESIGN.md, "The model"); a connection that
 * could not be made is still recorded, since no server saw it.
 */
void      pl_relay_add_local_server (PlRelay         *self,
                                     const char      *hostname);
/*
 * pl_relay_start:
 * Reads the queue (what a crash or a stop left there) and tries every
 * message in it now, each as soon as the main loop runs: a restart is how
 * a person says "the other server is back, go". A try made this way before
 * its retry time does not count against the message when it fails.
 * Returns FALSE with PL_STORE_ERROR_IO when the queue cannot be read.
 */
gboolean  pl_relay_start        (PlRelay             *self,
                                 GError             **error);
/* A message just queued (pl_queue_add() returned it): tried as soon as the main loop runs. */
void      pl_relay_submit       (PlRelay             *self,
                                 PlQueueEntry        *entry);
/* No new tries start from now on; sessions under way go on to their end. */
void      pl_relay_pause        (PlRelay             *self);
/* Sessions under way. */
guint     pl_relay_get_n_sessions (PlRelay           *self);
/* Messages in the queue, as the relay knows it. */
guint     pl_relay_get_n_queued (PlRelay             *self);
/*
 * pl_relay_stop:
 * Ends every session under way (a message whose "." was not yet answered
 * stays queued: RFC 5321 6.1 prefers sending it twice to losing it) and
 * starts no new one. What is queued stays queued for the next start.
 */
void      pl_relay_stop         (PlRelay             *self);

G_END_DECLS
