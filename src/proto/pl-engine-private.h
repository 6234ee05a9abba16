/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlEngine's own state, for the engines of src/proto only: drivers use pl-engine.h. */
#pragma once

#include <stdarg.h>
#include <string.h>

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
  /*
   * The output: a buffer of its own, not a GByteArray, because every unit
   * an engine sends is appended here, and a GByteArray append is a call
   * that asks for room each time (see pl_engine_base_write()).
   */
  guint8            *output;
  gsize              output_len;
  gsize              output_size;
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
/*
 * For an engine's reset function (a driver that runs many sessions, the
 * simulator, takes an engine back instead of making a new one): the base as
 * pl_engine_init() left it, its output buffer kept for the next session.
 * The protocol stays; the event and state functions are unset.
 */
void          pl_engine_base_reset     (PlEngineBase *base);
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
  return base->output_len - base->output_start;
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

/* Makes room for @len more octets of output (the buffer at least doubles). */
void          pl_engine_base_grow      (PlEngineBase *base,
                                        gsize         len);

/* As pl_engine_write(). */
static inline void
pl_engine_base_write (PlEngineBase *base,
                      const guint8 *data,
                      gsize         len)
{
  if (len == 0)
    return;
  if (len > base->output_size - base->output_len)
    pl_engine_base_grow (base, len);
  memcpy (base->output + base->output_len, data, len);
  base->output_len += len;
}

/* Where the next octets written will be: what was written since, pl_engine_base_written_since() gives. */
static inline gsize
pl_engine_base_mark (const PlEngineBase *base)
{
  return base->output_len;
}

/* The octets written since @mark (pl_engine_base_mark()), valid until the next write. */
static inline const guint8 *
pl_engine_base_written_since (const PlEngineBase *base,
                              gsize               mark,
                              gsize              *len)
{
  *len = base->output_len - mark;
  return base->output + mark;
}

/* As pl_engine_emit(): @event is borrowed. */
static inline void
pl_engine_base_emit (PlEngineBase *base,
                     PlEvent      *event)
{
  if (base->event_func != NULL)
    base->event_func (base->engine, event, base->event_data);
}

/* As g_ascii_toupper(), inline: every verb read or sent is upper-cased octet by octet. */
static inline char
pl_engine_ascii_toupper (char c)
{
  return c >= 'a' && c <= 'z' ? (char) (c - 'a' + 'A') : c;
}

/* Room for a number in decimal, and for pl_engine_concat()'s short texts. */
#define PL_ENGINE_DECIMAL_SIZE 21
#define PL_ENGINE_SHORT_TEXT 128

/*
 * @value in decimal, at the end of @buf (PL_ENGINE_DECIMAL_SIZE octets):
 * returns where it starts. Replies and commands with numbers ("RETR 2",
 * "+OK 912 octets") are put together with it: printf costs more than the
 * rest of such a line.
 */
static inline const char *
pl_engine_decimal (char    *buf,
                   guint64  value)
{
  char *p = buf + PL_ENGINE_DECIMAL_SIZE - 1;

  *p = '\0';
  do
    *--p = (char) ('0' + value % 10);
  while ((value /= 10) > 0);
  return p;
}

/*
 * The strings given, up to a NULL, one after the other in @buf
 * (PL_ENGINE_SHORT_TEXT octets, for short lines: what does not fit is
 * cut). Returns @buf.
 */
static inline const char *
pl_engine_concat (char       *buf,
                  const char *first,
                  ...) G_GNUC_NULL_TERMINATED;

static inline const char *
pl_engine_concat (char       *buf,
                  const char *first,
                  ...)
{
  va_list args;
  gsize len = 0;

  va_start (args, first);
  for (const char *part = first; part != NULL; part = va_arg (args, const char *))
    for (; *part != '\0' && len < PL_ENGINE_SHORT_TEXT - 1; part++)
      buf[len++] = *part;
  va_end (args);
  buf[len] = '\0';
  return buf;
}

G_END_DECLS
