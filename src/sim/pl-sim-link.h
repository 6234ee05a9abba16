/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimLink: a link between two simulated hosts, with latency, bandwidth and a queue each way. */
#pragma once

#include <glib.h>

#include "pl-sim-clock.h"

G_BEGIN_DECLS

/*
 * A full-duplex point-to-point link. Each direction sends one frame at a
 * time at @bandwidth (frames wait their turn, first come, first served),
 * and a frame arrives @latency after its last bit left: so frames never
 * overtake each other, and TCP over it sees its segments in order.
 */
typedef struct {
  guint      a;           /* index of one host in the simulation */
  guint      b;           /* and of the other */
  PlSimTime  latency;     /* one way */
  guint64    bandwidth;   /* bits per second; 0: no limit */
  PlSimTime  free_at[2];  /* when the sender of each direction is free: [0] a to b, [1] b to a */
  guint64    n_frames;
  guint64    n_octets;
  /*< private >*/
  gpointer   spare_segments; /* segments with payload that arrived, kept for the next (pl-sim-tcp.c) */
  guint      n_users;        /* connections on it, and holds (pl_sim_tcp_hold_link()): the last frees the spares */
} PlSimLink;

/* How long @octets take to put on the wire: whole nanoseconds, rounded up. */
static inline PlSimTime
pl_sim_link_transmission_time (const PlSimLink *link,
                               gsize            octets)
{
  guint64 bits = (guint64) octets * 8;

  if (link->bandwidth == 0)
    return 0;
  return (bits * PL_SIM_NS_PER_S + link->bandwidth - 1) / link->bandwidth;
}

/*
 * Sends a frame of @octets from host @from at @now: sets when its first bit
 * leaves (*@depart, later than @now when the link is busy) and when its
 * last bit arrives (*@arrive).
 */
static inline void
pl_sim_link_transmit (PlSimLink *link,
                      guint      from,
                      PlSimTime  now,
                      gsize      octets,
                      PlSimTime *depart,
                      PlSimTime *arrive)
{
  guint dir = from == link->a ? 0 : 1;
  PlSimTime start = MAX (now, link->free_at[dir]);
  PlSimTime done = start + pl_sim_link_transmission_time (link, octets);

  link->free_at[dir] = done;
  link->n_frames++;
  link->n_octets += octets;
  *depart = start;
  *arrive = done + link->latency;
}

G_END_DECLS
