/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimTcp: a small model of one TCP connection in virtual time (handshake, MSS segments, ACKs, FIN). */
#pragma once

#include <glib.h>

#include "pl-sim-clock.h"
#include "pl-sim-link.h"
#include "pl-sim-segment.h"

G_BEGIN_DECLS

typedef enum {
  PL_SIM_TCP_CLIENT = 0,  /* the end that connects (sends SYN) */
  PL_SIM_TCP_SERVER = 1,  /* the end that listens */
} PlSimTcpEnd;

typedef struct _PlSimTcp PlSimTcp;

/*
 * What the model tells the applications at its two ends. Each is called at
 * the virtual time the segment concerned arrives; any may be NULL. Inside
 * them an application may pl_sim_tcp_send() and pl_sim_tcp_close(): what
 * it sends then leaves with (and acknowledges) what came in.
 */
typedef struct {
  /* The three-way handshake is done at @end (RFC 9293 3.5): a server may greet. */
  void (*established) (PlSimTcp     *tcp,
                       PlSimTcpEnd   end,
                       gpointer      user_data);
  /* Payload, in order, arrived at @end. */
  void (*receive)     (PlSimTcp     *tcp,
                       PlSimTcpEnd   end,
                       const guint8 *data,
                       gsize         len,
                       gpointer      user_data);
  /* @end's peer sent its FIN (no more data will come) or, with @reset, refused or broke the connection. */
  void (*peer_closed) (PlSimTcp     *tcp,
                       PlSimTcpEnd   end,
                       gboolean      reset,
                       gpointer      user_data);
  /* Both FINs are sent and acknowledged, or a RST ended it: nothing more will happen. */
  void (*closed)      (PlSimTcp     *tcp,
                       gpointer      user_data);
  /* Every segment, as it arrives at its receiver (for a capture, the animation, tests). */
  void (*segment)     (PlSimTcp           *tcp,
                       const PlSimSegment *segment,
                       gpointer            user_data);
} PlSimTcpCallbacks;

typedef struct {
  PlSimEndpoint  ends[2];     /* indexed by PlSimTcpEnd */
  guint          hosts[2];    /* the hosts' indices, copied into each segment */
  guint16       *ip_ids[2];   /* each host's IPv4 Identification counter (RFC 791), shared by its connections */
  guint32        isn[2];      /* initial sequence numbers (RFC 9293 3.4.1) */
  guint16        mss;         /* both ends announce it and send no larger segments */
  guint16        window;      /* the receive window both ends announce; 0: 65535 */
  gboolean       refuse;      /* nobody listens at the server end: the SYN gets RST */
  guint          session;     /* copied into each segment */
} PlSimTcpConfig;

/*
 * pl_sim_tcp_new:
 * A connection over @link, driven by @clock (both borrowed: they must
 * outlive it). Nothing is sent until pl_sim_tcp_connect(). The connection
 * keeps itself alive while its segments are in flight: pl_sim_tcp_unref()
 * whenever its owner is done with it.
 */
PlSimTcp *pl_sim_tcp_new          (PlSimClock              *clock,
                                   PlSimLink               *link,
                                   const PlSimTcpConfig    *config,
                                   const PlSimTcpCallbacks *callbacks,
                                   gpointer                 user_data);
PlSimTcp *pl_sim_tcp_ref          (PlSimTcp                *self);
void      pl_sim_tcp_unref        (PlSimTcp                *self);
/* The client sends SYN now (RFC 9293 3.5, the three-way handshake). */
void      pl_sim_tcp_connect      (PlSimTcp                *self);
/*
 * Queues @len octets at @end for the peer; they leave in segments of at
 * most one MSS as the peer's window allows, PSH on the last of each write.
 */
void      pl_sim_tcp_send         (PlSimTcp                *self,
                                   PlSimTcpEnd              end,
                                   const guint8            *data,
                                   gsize                    len);
/* @end has nothing more to send: FIN once everything queued has left (RFC 9293 3.6). */
void      pl_sim_tcp_close        (PlSimTcp                *self,
                                   PlSimTcpEnd              end);
/* Gives up on the connection at once: RST from @end (a simulation that ends with it still open). */
void      pl_sim_tcp_abort        (PlSimTcp                *self,
                                   PlSimTcpEnd              end);
gboolean  pl_sim_tcp_is_closed    (PlSimTcp                *self);
gboolean  pl_sim_tcp_is_established (PlSimTcp              *self,
                                     PlSimTcpEnd            end);
/* Octets queued at @end that have not left yet. */
gsize     pl_sim_tcp_get_unsent   (PlSimTcp                *self,
                                   PlSimTcpEnd              end);
guint64   pl_sim_tcp_get_n_segments (PlSimTcp              *self);

/*
 * A link keeps the segments that arrived on it for the connections after,
 * while anyone uses it: its connections, and whoever holds it (a
 * simulation, for its whole run). The last to let go frees them; a link
 * nobody holds is ready to be freed once its connections are gone.
 */
void       pl_sim_tcp_hold_link    (PlSimLink *link);
void       pl_sim_tcp_release_link (PlSimLink *link);

G_END_DECLS
