/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTrace: the sessions and events of one run, in time order, growing as it runs. */
#pragma once

#include <gio/gio.h>

#include "pl-event.h"
#include "pl-session.h"

G_BEGIN_DECLS

/*
 * Whoever wants to see a trace grow (a writer printing a transcript as it
 * happens, the GUI) registers these callbacks. Any of them may be NULL.
 * The pointers passed are borrowed for the duration of the call.
 */
typedef struct {
  void (*session_opened) (PlSession *session, gpointer user_data);
  void (*event_added)    (PlSession *session, PlEvent *event, gpointer user_data);
  void (*session_closed) (PlSession *session, gpointer user_data);
} PlTraceListener;

#define PL_TYPE_EVENT_ITEM (pl_event_item_get_type ())
G_DECLARE_FINAL_TYPE (PlEventItem, pl_event_item, PL, EVENT_ITEM, GObject)

PlEvent   *pl_event_item_get_event   (PlEventItem *self);
PlSession *pl_event_item_get_session (PlEventItem *self);

#define PL_TYPE_TRACE (pl_trace_get_type ())
G_DECLARE_FINAL_TYPE (PlTrace, pl_trace, PL, TRACE, GObject)

/*
 * A trace is a GListModel of PlEventItem, one per event, in the order the
 * events were added. With @retain FALSE it keeps no events (only the
 * sessions that are still open): listeners see everything as it streams by,
 * and a capture of any size runs in constant memory.
 */
PlTrace    *pl_trace_new            (gboolean                retain);
gboolean    pl_trace_get_retain     (PlTrace                *self);
gulong      pl_trace_add_listener   (PlTrace                *self,
                                     const PlTraceListener  *listener,
                                     gpointer                user_data);
void        pl_trace_remove_listener (PlTrace               *self,
                                      gulong                 id);

PlSession  *pl_trace_open_session   (PlTrace                *self,
                                     PlProtocol              protocol,
                                     const char             *client,
                                     const char             *server,
                                     double                  time);
/* Opens a session made with pl_session_new() and filled in (hop, hosts) first; the trace takes a ref. */
PlSession  *pl_trace_add_session    (PlTrace                *self,
                                     PlSession              *session);
void        pl_trace_add_event      (PlTrace                *self,
                                     PlSession              *session,
                                     PlEvent                *event);
void        pl_trace_add_event_take (PlTrace                *self,
                                     PlSession              *session,
                                     PlEvent                *event);
void        pl_trace_close_session  (PlTrace                *self,
                                     PlSession              *session,
                                     double                  time);

guint       pl_trace_get_n_events   (PlTrace                *self);
PlEvent    *pl_trace_get_event      (PlTrace                *self,
                                     guint                   position);
guint       pl_trace_get_n_sessions (PlTrace                *self);
PlSession  *pl_trace_get_session    (PlTrace                *self,
                                     guint                   id);

G_END_DECLS
