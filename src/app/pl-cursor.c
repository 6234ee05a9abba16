/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlCursor: the current step in a trace, which every view of the window follows. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include "pl-cursor.h"

/* Of a step's time, the part the unit travels; the rest it rests arrived, so its caption can be read. */
#define TRAVEL_SHARE 0.7

/* A growing trace (a live capture) that runs ahead by more than this is caught up with at once. */
#define MAX_LAG 50

struct _PlCursor
{
  GObject   parent_instance;

  PlTrace  *trace;
  gulong    items_changed_handler;
  guint     n_steps;

  guint     position;
  double    progress;
  double    rest;       /* seconds the current step has rested since it arrived */
  gboolean  playing;
  double    speed;
};

G_DEFINE_FINAL_TYPE (PlCursor, pl_cursor, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TRACE,
  PROP_POSITION,
  PROP_N_STEPS,
  PROP_PROGRESS,
  PROP_PLAYING,
  PROP_SPEED,
  PROP_ANIMATING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
pl_cursor_update (PlCursor *self,
                  guint     position,
                  double    progress,
                  gboolean  playing)
{
  gboolean was_animating = pl_cursor_get_animating (self);
  gboolean position_changed = position != self->position;
  gboolean progress_changed = progress != self->progress;
  gboolean playing_changed = playing != self->playing;

  self->position = position;
  self->progress = progress;
  self->playing = playing;
  if (position_changed || progress < 1.0)
    self->rest = 0;

  g_object_freeze_notify (G_OBJECT (self));
  if (position_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POSITION]);
  if (progress_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
  if (playing_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
  if (was_animating != pl_cursor_get_animating (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANIMATING]);
  g_object_thaw_notify (G_OBJECT (self));
}

/*
 * The trace grew (a live capture, the console): a cursor that was at the
 * end plays on into what came, so each new line is seen travelling.
 */
static void
pl_cursor_on_items_changed (GListModel *model,
                            guint       position,
                            guint       removed,
                            guint       added,
                            gpointer    user_data)
{
  PlCursor *self = user_data;
  guint old_n = self->n_steps;
  guint new_position = self->position;
  gboolean playing = self->playing;

  self->n_steps = g_list_model_get_n_items (model);
  if (self->n_steps == old_n)
    return;

  if (self->position > self->n_steps)
    new_position = self->n_steps;
  else if (self->n_steps > old_n && (self->position == old_n || self->playing))
    {
      playing = TRUE;
      if (self->n_steps - self->position > MAX_LAG)
        new_position = self->n_steps - 1;
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_STEPS]);
  if (new_position != self->position)
    pl_cursor_update (self, new_position, 1.0, playing);
  else
    pl_cursor_update (self, self->position, self->progress, playing);
}

static void
pl_cursor_dispose (GObject *object)
{
  PlCursor *self = PL_CURSOR (object);

  if (self->trace != NULL)
    g_clear_signal_handler (&self->items_changed_handler, self->trace);
  g_clear_object (&self->trace);

  G_OBJECT_CLASS (pl_cursor_parent_class)->dispose (object);
}

static void
pl_cursor_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PlCursor *self = PL_CURSOR (object);

  switch (prop_id)
    {
    case PROP_TRACE:
      g_value_set_object (value, self->trace);
      break;
    case PROP_POSITION:
      g_value_set_uint (value, self->position);
      break;
    case PROP_N_STEPS:
      g_value_set_uint (value, self->n_steps);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, self->playing);
      break;
    case PROP_SPEED:
      g_value_set_double (value, self->speed);
      break;
    case PROP_ANIMATING:
      g_value_set_boolean (value, pl_cursor_get_animating (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_cursor_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PlCursor *self = PL_CURSOR (object);

  switch (prop_id)
    {
    case PROP_TRACE:
      pl_cursor_set_trace (self, g_value_get_object (value));
      break;
    case PROP_POSITION:
      pl_cursor_set_position (self, g_value_get_uint (value));
      break;
    case PROP_PLAYING:
      pl_cursor_set_playing (self, g_value_get_boolean (value));
      break;
    case PROP_SPEED:
      pl_cursor_set_speed (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_cursor_class_init (PlCursorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_cursor_dispose;
  object_class->get_property = pl_cursor_get_property;
  object_class->set_property = pl_cursor_set_property;

  properties[PROP_TRACE] =
    g_param_spec_object ("trace", NULL, NULL, PL_TYPE_TRACE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_POSITION] =
    g_param_spec_uint ("position", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_STEPS] =
    g_param_spec_uint ("n-steps", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0, 1, 1,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SPEED] =
    g_param_spec_double ("speed", NULL, NULL, PL_CURSOR_MIN_SPEED, PL_CURSOR_MAX_SPEED, 1,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ANIMATING] =
    g_param_spec_boolean ("animating", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pl_cursor_init (PlCursor *self)
{
  self->progress = 1.0;
  self->speed = 1.0;
}

PlCursor *
pl_cursor_new (void)
{
  return g_object_new (PL_TYPE_CURSOR, NULL);
}

PlTrace *
pl_cursor_get_trace (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), NULL);

  return self->trace;
}

void
pl_cursor_set_trace (PlCursor *self,
                     PlTrace  *trace)
{
  g_return_if_fail (PL_IS_CURSOR (self));
  g_return_if_fail (trace == NULL || PL_IS_TRACE (trace));

  if (self->trace == trace)
    return;

  if (self->trace != NULL)
    g_clear_signal_handler (&self->items_changed_handler, self->trace);
  g_set_object (&self->trace, trace);
  self->n_steps = trace != NULL ? pl_trace_get_n_events (trace) : 0;
  if (trace != NULL)
    self->items_changed_handler = g_signal_connect (trace, "items-changed",
                                                    G_CALLBACK (pl_cursor_on_items_changed), self);

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_STEPS]);
  pl_cursor_update (self, 0, 1.0, FALSE);
  g_object_thaw_notify (G_OBJECT (self));
}

guint
pl_cursor_get_position (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), 0);

  return self->position;
}

guint
pl_cursor_get_n_steps (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), 0);

  return self->n_steps;
}

PlEvent *
pl_cursor_get_event (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), NULL);

  if (self->trace == NULL || self->position == 0)
    return NULL;
  return pl_trace_get_event (self->trace, self->position - 1);
}

double
pl_cursor_get_progress (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), 1.0);

  return self->progress;
}

gboolean
pl_cursor_get_playing (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), FALSE);

  return self->playing;
}

double
pl_cursor_get_speed (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), 1.0);

  return self->speed;
}

gboolean
pl_cursor_get_animating (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), FALSE);

  return self->playing || self->progress < 1.0;
}

void
pl_cursor_set_position_full (PlCursor *self,
                             guint     position,
                             double    progress)
{
  g_return_if_fail (PL_IS_CURSOR (self));

  position = MIN (position, self->n_steps);
  /* Nothing travels before the first step. */
  progress = position == 0 ? 1.0 : CLAMP (progress, 0.0, 1.0);
  pl_cursor_update (self, position, progress, self->playing && position < self->n_steps);
}

void
pl_cursor_set_position (PlCursor *self,
                        guint     position)
{
  pl_cursor_set_position_full (self, position, 1.0);
}

/* Returns FALSE at the end: there is no next step. */
gboolean
pl_cursor_step_forward (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), FALSE);

  if (self->position >= self->n_steps)
    return FALSE;
  pl_cursor_set_position_full (self, self->position + 1, 0.0);
  return TRUE;
}

/* Returns FALSE at the start. */
gboolean
pl_cursor_step_back (PlCursor *self)
{
  g_return_val_if_fail (PL_IS_CURSOR (self), FALSE);

  if (self->position == 0)
    return FALSE;
  pl_cursor_set_position_full (self, self->position - 1, 1.0);
  return TRUE;
}

void
pl_cursor_first (PlCursor *self)
{
  pl_cursor_set_position_full (self, 0, 1.0);
}

void
pl_cursor_last (PlCursor *self)
{
  g_return_if_fail (PL_IS_CURSOR (self));

  pl_cursor_set_position_full (self, self->n_steps, 1.0);
}

void
pl_cursor_finish_step (PlCursor *self)
{
  g_return_if_fail (PL_IS_CURSOR (self));

  pl_cursor_update (self, self->position, 1.0, self->playing);
}

void
pl_cursor_set_playing (PlCursor *self,
                       gboolean  playing)
{
  g_return_if_fail (PL_IS_CURSOR (self));

  playing = !!playing;
  /* Play at the end starts again from the beginning, as media players do. */
  if (playing && !self->playing && self->position >= self->n_steps && self->n_steps > 0)
    {
      pl_cursor_update (self, 0, 1.0, TRUE);
      return;
    }
  if (playing && self->n_steps == 0)
    playing = FALSE;
  pl_cursor_update (self, self->position, self->progress, playing);
}

void
pl_cursor_set_speed (PlCursor *self,
                     double    speed)
{
  g_return_if_fail (PL_IS_CURSOR (self));

  speed = CLAMP (speed, PL_CURSOR_MIN_SPEED, PL_CURSOR_MAX_SPEED);
  if (speed == self->speed)
    return;
  self->speed = speed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
}

gboolean
pl_cursor_advance (PlCursor *self,
                   double    seconds)
{
  double travel = PL_CURSOR_STEP_SECONDS * TRAVEL_SHARE / self->speed;
  double rest = PL_CURSOR_STEP_SECONDS * (1.0 - TRAVEL_SHARE) / self->speed;
  guint position = self->position;
  double progress = self->progress;
  double resting = self->rest;

  g_return_val_if_fail (PL_IS_CURSOR (self), FALSE);

  if (seconds <= 0 || !pl_cursor_get_animating (self))
    return pl_cursor_get_animating (self);

  /* A long frame (a busy machine) may cover several steps while playing. */
  while (seconds > 0)
    {
      if (progress < 1.0)
        {
          double needed = (1.0 - progress) * travel;

          if (seconds < needed)
            {
              progress += seconds / travel;
              seconds = 0;
              break;
            }
          seconds -= needed;
          progress = 1.0;
          resting = 0;
        }
      if (!self->playing)
        break;
      if (position >= self->n_steps)
        break;
      if (resting + seconds < rest && position > 0)
        {
          resting += seconds;
          seconds = 0;
          break;
        }
      seconds -= position > 0 ? rest - resting : 0;
      resting = 0;
      position++;
      progress = 0.0;
    }

  pl_cursor_update (self, position, progress,
                    self->playing && !(position >= self->n_steps && progress >= 1.0));
  self->rest = resting;
  return pl_cursor_get_animating (self);
}

gboolean
pl_cursor_replace (PlCursor **slot,
                   PlCursor  *cursor,
                   gpointer   follower)
{
  g_return_val_if_fail (slot != NULL, FALSE);
  g_return_val_if_fail (cursor == NULL || PL_IS_CURSOR (cursor), FALSE);

  if (*slot == cursor)
    return FALSE;
  if (*slot != NULL)
    g_signal_handlers_disconnect_by_data (*slot, follower);
  g_set_object (slot, cursor);
  return TRUE;
}
