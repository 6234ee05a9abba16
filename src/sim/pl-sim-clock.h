/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimClock: the simulator's virtual clock, a queue of actions ordered by virtual time. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Virtual time, in nanoseconds since the start of a run. Integer, so that
 * adding latencies and transmission times is exact and a run gives the
 * same times on every machine; seconds (double) only at the edges.
 */
typedef guint64 PlSimTime;

#define PL_SIM_TIME_NEVER   G_MAXUINT64
#define PL_SIM_NS_PER_US    G_GUINT64_CONSTANT (1000)
#define PL_SIM_NS_PER_MS    G_GUINT64_CONSTANT (1000000)
#define PL_SIM_NS_PER_S     G_GUINT64_CONSTANT (1000000000)

static inline double
pl_sim_time_to_seconds (PlSimTime time)
{
  return (double) time / (double) PL_SIM_NS_PER_S;
}

typedef void (*PlSimClockFunc) (gpointer data);

typedef struct _PlSimClock PlSimClock;

/* A clock at time 0 with nothing to do. Nothing here reads the wall clock. */
PlSimClock *pl_sim_clock_new         (void);
void        pl_sim_clock_free        (PlSimClock     *self);
PlSimTime   pl_sim_clock_now         (const PlSimClock *self);
/*
 * pl_sim_clock_schedule:
 * Runs @func (@data) when virtual time reaches @at (no earlier than now;
 * an earlier @at means now). Actions due at the same time run in the order
 * they were scheduled, which makes every run of a simulation the same.
 */
void        pl_sim_clock_schedule    (PlSimClock     *self,
                                      PlSimTime       at,
                                      PlSimClockFunc  func,
                                      gpointer        data);
/* Advances to the earliest action and runs it. FALSE when nothing is left to do. */
gboolean    pl_sim_clock_step        (PlSimClock     *self);
/* How many actions wait. */
guint       pl_sim_clock_get_pending (const PlSimClock *self);
/* When the earliest action is due, or PL_SIM_TIME_NEVER. */
PlSimTime   pl_sim_clock_get_next    (const PlSimClock *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSimClock, pl_sim_clock_free)

G_END_DECLS
