/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlEngine's own state, for the engines of src/proto only: drivers use pl-engine.h. */
#pragma once

#include "pl-engine.h"

G_BEGIN_DECLS

/*
 * An engine asks its base whether it is finished, how much output waits and
 * whether anyone listens on every line it reads. Through the public calls
 * each of those is a type check that costs more than the answer (a tenth of
 * a simulated message's time, measured), and the engine knows what it is.
 * So an engine takes this pointer once, in its init, and uses the inline
 * reads below on its per-line paths. The writers here do what
 * pl_engine_write(), pl_engine_emit() and pl_engine_set_state() do (the
 * last is the same function: a state still changes in one place).
 */
typedef struct {
  PlEngine          *engine;
  PlProtocol         protocol;
  GByteArray        *output;
  gsize              output_start;
  guint              delay;
  guint              state;
  gboolean           finished;
  gboolean           failed;
  gboolean           no_received_events;
  gboolean           log_states;
  PlEngineEventFunc  event_func;
  gpointer           event_data;
  PlEngineStateFunc  state_func;
  gpointer           state_data;
} PlEngineBase;

/* The base of @self, valid as long as @self. */
PlEngineBase *pl_engine_get_base       (PlEngine     *self);
/* pl_engine_set_state(), the one place a state changes, for the engine's own paths. */
void          pl_engine_base_set_state (PlEngineBase *base,
                                        guint         state);

static inline gboolean
pl_engine_base_is_finished (const PlEngineBase *base)
{
  return base->finished;
}

static inline guint
pl_engine_base_get_state (const PlEngineBase *base)
{
  return base->state;
}

/* Octets queued and not yet consumed by the driver. */
static inline gsize
pl_engine_base_get_pending (const PlEngineBase *base)
{
  return base->output->len - base->output_start;
}

/* As pl_engine_wants_events() and pl_engine_wants_received_events(). */
static inline gboolean
pl_engine_base_wants_events (const PlEngineBase *base)
{
  return base->event_func != NULL;
}

static inline gboolean
pl_engine_base_wants_received_events (const PlEngineBase *base)
{
  return base->event_func != NULL && !base->no_received_events;
}

/* As pl_engine_write(). */
static inline void
pl_engine_base_write (PlEngineBase *base,
                      const guint8 *data,
                      gsize         len)
{
  if (len > 0)
    g_byte_array_append (base->output, data, (guint) len);
}

/* As pl_engine_emit(): @event is borrowed. */
static inline void
pl_engine_base_emit (PlEngineBase *base,
                     PlEvent      *event)
{
  if (base->event_func != NULL)
    base->event_func (base->engine, event, base->event_data);
}

G_END_DECLS
