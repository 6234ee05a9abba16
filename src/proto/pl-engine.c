/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlEngine: the sans-I/O shape every protocol engine has, server or client. */
#define G_LOG_DOMAIN "postlab-proto"

#include "pl-engine.h"

#include "pl-engine-private.h"

/* The engines of src/proto read it directly (pl-engine-private.h); everyone else goes through the calls below. */
typedef PlEngineBase PlEnginePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (PlEngine, pl_engine, G_TYPE_OBJECT)

static void
pl_engine_finalize (GObject *object)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (PL_ENGINE (object));

  g_free (priv->output);
  G_OBJECT_CLASS (pl_engine_parent_class)->finalize (object);
}

static const char *
pl_engine_real_state_name (PlEngine *self,
                           guint     state)
{
  return "?";
}

static void
pl_engine_class_init (PlEngineClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pl_engine_finalize;
  klass->state_name = pl_engine_real_state_name;
}

static void
pl_engine_init (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  priv->engine = self;
  /*
   * Whether the state changes go to the debug log (G_MESSAGES_DEBUG names
   * this domain) is asked once per engine: asking looks at the environment,
   * which cost more than the rest of a state change.
   */
  priv->log_states = !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
}

PlEngineBase *
pl_engine_get_base (PlEngine *self)
{
  g_return_val_if_fail (PL_IS_ENGINE (self), NULL);
  return pl_engine_get_instance_private (self);
}

/* See pl-engine-private.h. */
void
pl_engine_base_grow (PlEngineBase *base,
                     gsize         len)
{
  gsize size = MAX (base->output_size * 2, 256);

  g_return_if_fail (len <= G_MAXSIZE / 2 - base->output_len);
  while (size < base->output_len + len)
    size *= 2;
  base->output = g_realloc (base->output, size);
  base->output_size = size;
}

/* See pl-engine-private.h. */
void
pl_engine_base_reset (PlEngineBase *base)
{
  g_return_if_fail (base != NULL);

  base->output_len = 0;
  base->output_start = 0;
  base->delay = 0;
  base->state = 0;
  base->finished = FALSE;
  base->failed = FALSE;
  base->no_received_events = FALSE;
  base->event_func = NULL;
  base->event_data = NULL;
  base->state_func = NULL;
  base->state_data = NULL;
}

PlProtocol
pl_engine_get_protocol (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_val_if_fail (PL_IS_ENGINE (self), PL_PROTOCOL_UNKNOWN);
  return priv->protocol;
}

void
pl_engine_set_protocol (PlEngine   *self,
                        PlProtocol  protocol)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  priv->protocol = protocol;
}

/* Sets the function that receives each event, borrowed for the call. */
void
pl_engine_set_event_func (PlEngine          *self,
                          PlEngineEventFunc  func,
                          gpointer           user_data)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  priv->event_func = func;
  priv->event_data = user_data;
}

/*
 * pl_engine_set_received_events:
 * Whether the event function hears of the units the engine receives from
 * its peer (the default) or only of those it sends itself, and notes. A
 * driver that runs both ends of a connection (the simulator) records each
 * unit once, from its sender; with @wanted FALSE the receiving engine does
 * not build events (octets, display text, verb) that would be thrown away.
 * What the engine does with the units is the same either way.
 */
void
pl_engine_set_received_events (PlEngine *self,
                               gboolean  wanted)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  priv->no_received_events = !wanted;
}

/* For engines: TRUE when the units it sends should become events (an event function is set). */
gboolean
pl_engine_wants_events (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_val_if_fail (PL_IS_ENGINE (self), FALSE);
  return priv->event_func != NULL;
}

/* For engines: TRUE when the units it receives should become events too (see pl_engine_set_received_events()). */
gboolean
pl_engine_wants_received_events (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_val_if_fail (PL_IS_ENGINE (self), FALSE);
  return priv->event_func != NULL && !priv->no_received_events;
}

void
pl_engine_set_state_func (PlEngine          *self,
                          PlEngineStateFunc  func,
                          gpointer           user_data)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  priv->state_func = func;
  priv->state_data = user_data;
}

void
pl_engine_start (PlEngine *self)
{
  g_return_if_fail (PL_IS_ENGINE (self));
  if (PL_ENGINE_GET_CLASS (self)->start != NULL)
    PL_ENGINE_GET_CLASS (self)->start (self);
}

/* Octets from the peer. Input after the engine finished is ignored. */
void
pl_engine_feed (PlEngine     *self,
                const guint8 *data,
                gsize         len)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  g_return_if_fail (data != NULL || len == 0);

  if (priv->finished || len == 0)
    return;
  PL_ENGINE_GET_CLASS (self)->receive (self, data, len);
}

void
pl_engine_connection_lost (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  if (PL_ENGINE_GET_CLASS (self)->connection_lost != NULL)
    PL_ENGINE_GET_CLASS (self)->connection_lost (self);
  priv->finished = TRUE;
}

/* The octets waiting to be sent, borrowed until the next call on the engine. */
const guint8 *
pl_engine_get_output (PlEngine *self,
                      gsize    *len)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_val_if_fail (PL_IS_ENGINE (self), NULL);
  g_return_val_if_fail (len != NULL, NULL);

  *len = priv->output_len - priv->output_start;
  return priv->output + priv->output_start;
}

/*
 * The driver has sent @len octets of the output. Once all of it is sent, an
 * engine that held input back (to bound its output) may queue more: call
 * pl_engine_get_output() again after this.
 */
void
pl_engine_consume_output (PlEngine *self,
                          gsize     len)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  g_return_if_fail (len <= priv->output_len - priv->output_start);

  priv->output_start += len;
  if (priv->output_start == priv->output_len)
    {
      priv->output_len = 0;
      priv->output_start = 0;
      if (len > 0 && !priv->finished && PL_ENGINE_GET_CLASS (self)->output_drained != NULL)
        PL_ENGINE_GET_CLASS (self)->output_drained (self);
    }
}

/*
 * pl_engine_drain_output:
 * What a driver does with pl_engine_take_delay(), pl_engine_get_output()
 * and pl_engine_consume_output(), in one call. With @delay, the delay the
 * engine asked for is taken first (as pl_engine_take_delay() does): when
 * there is one, nothing is drained and the driver calls again once it has
 * waited. Otherwise (and always when @delay is NULL) all the output goes
 * to @func (which sends it) and is consumed, again while an engine that
 * held input back queues more once its output is gone. Returns
 * pl_engine_is_finished(). A simulation does this after every call into
 * an engine: one call, one type check, instead of five.
 */
gboolean
pl_engine_drain_output (PlEngine           *self,
                        guint              *delay,
                        PlEngineOutputFunc  func,
                        gpointer            user_data)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_val_if_fail (PL_IS_ENGINE (self), TRUE);
  g_return_val_if_fail (func != NULL, TRUE);

  if (delay != NULL)
    {
      *delay = priv->delay;
      priv->delay = 0;
      if (*delay > 0)
        return priv->finished;
    }

  while (priv->output_len > priv->output_start)
    {
      gsize len = priv->output_len - priv->output_start;

      func (priv->output + priv->output_start, len, user_data);
      /* As pl_engine_consume_output (self, len); @func may not have called into the engine. */
      priv->output_len = 0;
      priv->output_start = 0;
      if (!priv->finished && PL_ENGINE_GET_CLASS (self)->output_drained != NULL)
        PL_ENGINE_GET_CLASS (self)->output_drained (self);
    }
  return priv->finished;
}

/*
 * pl_engine_take_delay:
 * How long, in milliseconds, the driver should hold the pending output back
 * (after a failed login, so that guessing passwords is slow). Resets to 0.
 */
guint
pl_engine_take_delay (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);
  guint delay;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  delay = priv->delay;
  priv->delay = 0;
  return delay;
}

void
pl_engine_request_delay (PlEngine *self,
                         guint     milliseconds)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  priv->delay = MAX (priv->delay, milliseconds);
}

/* TRUE once the engine wants the connection closed after its output is sent. */
gboolean
pl_engine_is_finished (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_val_if_fail (PL_IS_ENGINE (self), TRUE);
  return priv->finished;
}

/* TRUE when the engine finished because something went wrong (a client got -ERR). */
gboolean
pl_engine_is_failed (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_val_if_fail (PL_IS_ENGINE (self), TRUE);
  return priv->failed;
}

void
pl_engine_finish (PlEngine *self,
                  gboolean  failed)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  priv->finished = TRUE;
  priv->failed = priv->failed || failed;
}

guint
pl_engine_get_state (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  return priv->state;
}

const char *
pl_engine_get_state_name (PlEngine *self)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_val_if_fail (PL_IS_ENGINE (self), NULL);
  return PL_ENGINE_GET_CLASS (self)->state_name (self, priv->state);
}

/*
 * pl_engine_set_state:
 * The one place an engine's state changes: records old -> new in the debug
 * log and tells the state function (the animation listens there).
 */
void
pl_engine_set_state (PlEngine *self,
                     guint     state)
{
  g_return_if_fail (PL_IS_ENGINE (self));
  pl_engine_base_set_state (pl_engine_get_instance_private (self), state);
}

/* pl_engine_set_state() for the engines' own paths (pl-engine-private.h). */
void
pl_engine_base_set_state (PlEngineBase *priv,
                          guint         state)
{
  PlEngine *self = priv->engine;
  PlEngineClass *klass;
  const char *old_name;
  const char *new_name;

  if (priv->state == state)
    return;
  /*
   * A state changes several times per session: its names are looked up and
   * the line formatted only when someone will see them (see
   * pl_engine_init() for the log, or a state function listens).
   */
  if (!priv->log_states && priv->state_func == NULL)
    {
      priv->state = state;
      return;
    }
  klass = PL_ENGINE_GET_CLASS (self);
  old_name = klass->state_name (self, priv->state);
  new_name = klass->state_name (self, state);
  if (priv->log_states)
    g_debug ("%s %s: %s -> %s", pl_protocol_to_string (priv->protocol),
             G_OBJECT_TYPE_NAME (self), old_name, new_name);
  priv->state = state;
  if (priv->state_func != NULL)
    priv->state_func (self, old_name, new_name, priv->state_data);
}

/* Hands @event to the event function; the engine keeps its own reference. */
void
pl_engine_emit (PlEngine *self,
                PlEvent  *event)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  g_return_if_fail (event != NULL);
  if (priv->event_func != NULL)
    priv->event_func (self, event, priv->event_data);
}

void
pl_engine_emit_note (PlEngine   *self,
                     const char *format,
                     ...)
{
  PlEvent *event;
  va_list args;

  g_return_if_fail (PL_IS_ENGINE (self));
  if (!pl_engine_wants_events (self))
    return;
  va_start (args, format);
  event = pl_event_new_take (PL_EVENT_NOTE, PL_DIR_NONE, NULL, g_strdup_vprintf (format, args));
  va_end (args);
  pl_engine_emit (self, event);
  pl_event_unref (event);
}

/*
 * pl_engine_write:
 * Queues @data for the peer without making an event of it: for an engine
 * that builds the unit's event itself (only when pl_engine_wants_events()),
 * with its fields and display text made once.
 */
void
pl_engine_write (PlEngine     *self,
                 const guint8 *data,
                 gsize         len)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);

  g_return_if_fail (PL_IS_ENGINE (self));
  g_return_if_fail (data != NULL || len == 0);

  pl_engine_base_write (priv, data, len);
}

/*
 * pl_engine_send:
 * Queues @data for the peer and makes the event that records it, in this
 * engine's direction (a reply is the server's, anything else the client's).
 * Returns a new event that the caller owns: fill in its fields (status,
 * verb), pass it to pl_engine_emit() before anything else is sent, unref it.
 */
PlEvent *
pl_engine_send (PlEngine     *self,
                PlEventKind   kind,
                const guint8 *data,
                gsize         len)
{
  PlEnginePrivate *priv = pl_engine_get_instance_private (self);
  PlDirection dir;

  g_return_val_if_fail (PL_IS_ENGINE (self), NULL);

  pl_engine_base_write (priv, data, len);
  dir = (kind == PL_EVENT_REPLY) ? PL_DIR_SERVER : PL_DIR_CLIENT;
  return pl_event_new (kind, dir, data, len);
}
