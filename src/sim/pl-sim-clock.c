/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimClock: the simulator's virtual clock, a queue of actions ordered by virtual time. */
#define G_LOG_DOMAIN "postlab-sim"

#include "pl-sim-clock.h"

typedef struct {
  PlSimTime      at;
  guint64        order;  /* ties at one time run first come, first served */
  PlSimClockFunc func;
  gpointer       data;
} Action;

/*
 * The heap is a plain array grown by doubling: every segment of a run is
 * scheduled and stepped through here, and g_array_set_size() by one each
 * time cost more than the sifting.
 */
struct _PlSimClock
{
  PlSimTime  now;
  guint64    next_order;
  Action    *heap;  /* a binary min-heap on (at, order) */
  guint      len;
  guint      size;
};

PlSimClock *
pl_sim_clock_new (void)
{
  PlSimClock *self = g_new0 (PlSimClock, 1);

  self->size = 256;
  self->heap = g_new (Action, self->size);
  return self;
}

void
pl_sim_clock_free (PlSimClock *self)
{
  if (self == NULL)
    return;
  g_free (self->heap);
  g_free (self);
}

PlSimTime
pl_sim_clock_now (const PlSimClock *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->now;
}

static inline gboolean
earlier (const Action *a,
         const Action *b)
{
  return a->at < b->at || (a->at == b->at && a->order < b->order);
}

void
pl_sim_clock_schedule (PlSimClock     *self,
                       PlSimTime       at,
                       PlSimClockFunc  func,
                       gpointer        data)
{
  Action action;
  Action *heap;
  guint i;

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);

  action.at = MAX (at, self->now);
  action.order = self->next_order++;
  action.func = func;
  action.data = data;

  /* Sift up. */
  if (self->len == self->size)
    {
      self->size *= 2;
      self->heap = g_renew (Action, self->heap, self->size);
    }
  heap = self->heap;
  i = self->len++;
  while (i > 0)
    {
      guint parent = (i - 1) / 2;

      if (!earlier (&action, &heap[parent]))
        break;
      heap[i] = heap[parent];
      i = parent;
    }
  heap[i] = action;
}

gboolean
pl_sim_clock_step (PlSimClock *self)
{
  Action *heap;
  Action first;
  Action last;
  guint n;
  guint i = 0;

  g_return_val_if_fail (self != NULL, FALSE);

  n = self->len;
  if (n == 0)
    return FALSE;
  heap = self->heap;
  first = heap[0];
  last = heap[n - 1];
  n--;

  /* Sift the last one down from the top. */
  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= n)
        break;
      if (child + 1 < n && earlier (&heap[child + 1], &heap[child]))
        child++;
      if (!earlier (&heap[child], &last))
        break;
      heap[i] = heap[child];
      i = child;
    }
  if (n > 0)
    heap[i] = last;
  self->len = n;

  self->now = first.at;
  first.func (first.data);
  return TRUE;
}

guint
pl_sim_clock_get_pending (const PlSimClock *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->len;
}

PlSimTime
pl_sim_clock_get_next (const PlSimClock *self)
{
  g_return_val_if_fail (self != NULL, PL_SIM_TIME_NEVER);
  if (self->len == 0)
    return PL_SIM_TIME_NEVER;
  return self->heap[0].at;
}
