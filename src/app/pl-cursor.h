/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlCursor: the current step in a trace, which every view of the window follows. */
#pragma once

#include <glib-object.h>

#include "pl-trace.h"

G_BEGIN_DECLS

/* How long one step takes to animate at speed 1×, in seconds. */
#define PL_CURSOR_STEP_SECONDS 1.2

#define PL_CURSOR_MIN_SPEED 0.25
#define PL_CURSOR_MAX_SPEED 8.0

#define PL_TYPE_CURSOR (pl_cursor_get_type ())
G_DECLARE_FINAL_TYPE (PlCursor, pl_cursor, PL, CURSOR, GObject)

/*
 * A cursor over a trace. Its position counts the steps done: 0 is the
 * start, before anything was sent; position p (1 ≤ p ≤ n) makes the event
 * at index p - 1 the current one, travelling along its link with
 * "progress" going from 0 (it leaves) to 1 (it has arrived). Stepping is
 * moving this cursor; the world is never run again (DESIGN.md, "The GUI in
 * one picture"). The cursor reads no clock: whoever draws (the window's
 * frame clock) calls pl_cursor_advance() with the time that passed.
 */
PlCursor  *pl_cursor_new              (void);

PlTrace   *pl_cursor_get_trace        (PlCursor *self);
/* Shows @trace from its start (position 0); NULL shows nothing. */
void       pl_cursor_set_trace        (PlCursor *self,
                                       PlTrace  *trace);

guint      pl_cursor_get_position     (PlCursor *self);
/* The number of steps: the events in the trace. */
guint      pl_cursor_get_n_steps      (PlCursor *self);
/* The current event (borrowed), or NULL at position 0. */
PlEvent   *pl_cursor_get_event        (PlCursor *self);

double     pl_cursor_get_progress     (PlCursor *self);
gboolean   pl_cursor_get_playing      (PlCursor *self);
double     pl_cursor_get_speed        (PlCursor *self);
/* TRUE while something moves: playing, or the current step on its way. */
gboolean   pl_cursor_get_animating    (PlCursor *self);

/*
 * Moves to @position (clamped to 0..n) with the current event at @progress
 * (0..1). The usual calls are below: stepping forward animates the new
 * step from its start, any other move shows it arrived, so that one
 * position always looks the same however it was reached.
 */
void       pl_cursor_set_position_full (PlCursor *self,
                                        guint     position,
                                        double    progress);
void       pl_cursor_set_position     (PlCursor *self,
                                       guint     position);
gboolean   pl_cursor_step_forward     (PlCursor *self);
gboolean   pl_cursor_step_back        (PlCursor *self);
void       pl_cursor_first            (PlCursor *self);
void       pl_cursor_last             (PlCursor *self);
/* Lets the current step arrive at once. */
void       pl_cursor_finish_step      (PlCursor *self);

void       pl_cursor_set_playing      (PlCursor *self,
                                       gboolean  playing);
/* Clamped to PL_CURSOR_MIN_SPEED..PL_CURSOR_MAX_SPEED. */
void       pl_cursor_set_speed        (PlCursor *self,
                                       double    speed);

/*
 * Lets @seconds of real time pass: the current step travels on, and while
 * playing the cursor moves to the next step when it has arrived, stopping
 * at the end of the trace. Returns pl_cursor_get_animating().
 */
gboolean   pl_cursor_advance          (PlCursor *self,
                                       double    seconds);

/*
 * pl_cursor_replace:
 * For a view's set_cursor(): puts @cursor into @slot in place of what was
 * there, disconnecting every handler @follower had on the old cursor.
 * Returns FALSE when @cursor was already there (nothing to do), TRUE when
 * the view should now connect to @cursor (when not NULL) and redraw.
 */
gboolean   pl_cursor_replace          (PlCursor **slot,
                                       PlCursor  *cursor,
                                       gpointer   follower);

G_END_DECLS
