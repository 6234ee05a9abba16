/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTrace: the sessions and events of one run, in time order, growing as it runs. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-trace.h"

struct _PlEventItem
{
  GObject    parent_instance;
  PlEvent   *event;
  PlSession *session;
};

G_DEFINE_FINAL_TYPE (PlEventItem, pl_event_item, G_TYPE_OBJECT)

static void
pl_event_item_finalize (GObject *object)
{
  PlEventItem *self = PL_EVENT_ITEM (object);

  g_clear_pointer (&self->event, pl_event_unref);
  g_clear_pointer (&self->session, pl_session_unref);
  G_OBJECT_CLASS (pl_event_item_parent_class)->finalize (object);
}

static void
pl_event_item_class_init (PlEventItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pl_event_item_finalize;
}

static void
pl_event_item_init (PlEventItem *self)
{
}

PlEvent *
pl_event_item_get_event (PlEventItem *self)
{
  g_return_val_if_fail (PL_IS_EVENT_ITEM (self), NULL);
  return self->event;
}

PlSession *
pl_event_item_get_session (PlEventItem *self)
{
  g_return_val_if_fail (PL_IS_EVENT_ITEM (self), NULL);
  return self->session;
}

typedef struct {
  gulong          id;
  PlTraceListener vtable;
  gpointer        user_data;
} Listener;

struct _PlTrace
{
  GObject     parent_instance;
  gboolean    retain;
  /*
   * The events, when retaining: in chunks of EVENT_CHUNK, so that a trace
   * of millions grows without ever copying (or touching again) the
   * pointers it holds, as one array doubling would.
   */
  GPtrArray  *chunks;     /* of PlEvent *[EVENT_CHUNK] */
  guint       n_events;
  GHashTable *sessions;   /* id -> PlSession: all when retaining, else the open ones */
  guint       next_session_id;
  guint       n_sessions;
  GArray     *listeners;  /* of Listener */
  gulong      next_listener_id;
  guint       items_changed_id;
};

#define EVENT_CHUNK 4096

static inline PlEvent *
event_at (PlTrace *self,
          guint    position)
{
  return ((PlEvent **) g_ptr_array_index (self->chunks, position / EVENT_CHUNK))[position % EVENT_CHUNK];
}

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PlTrace, pl_trace, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
pl_trace_get_item_type (GListModel *model)
{
  return PL_TYPE_EVENT_ITEM;
}

static guint
pl_trace_get_n_items (GListModel *model)
{
  return pl_trace_get_n_events (PL_TRACE (model));
}

static gpointer
pl_trace_get_item (GListModel *model,
                   guint       position)
{
  PlTrace *self = PL_TRACE (model);
  PlEventItem *item;
  PlEvent *event;

  event = pl_trace_get_event (self, position);
  if (event == NULL)
    return NULL;
  item = g_object_new (PL_TYPE_EVENT_ITEM, NULL);
  item->event = pl_event_ref (event);
  item->session = pl_session_ref (g_hash_table_lookup (self->sessions, GUINT_TO_POINTER (event->session)));
  return item;
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = pl_trace_get_item_type;
  iface->get_n_items = pl_trace_get_n_items;
  iface->get_item = pl_trace_get_item;
}

static void
pl_trace_finalize (GObject *object)
{
  PlTrace *self = PL_TRACE (object);

  for (guint i = 0; i < self->n_events; i++)
    pl_event_unref (event_at (self, i));
  g_ptr_array_unref (self->chunks);
  g_hash_table_unref (self->sessions);
  g_array_unref (self->listeners);
  G_OBJECT_CLASS (pl_trace_parent_class)->finalize (object);
}

static void
pl_trace_class_init (PlTraceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pl_trace_finalize;
}

static void
pl_trace_init (PlTrace *self)
{
  self->chunks = g_ptr_array_new_with_free_func (g_free);
  self->sessions = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) pl_session_unref);
  self->listeners = g_array_new (FALSE, FALSE, sizeof (Listener));
  self->next_session_id = 1;
  self->next_listener_id = 1;
  self->items_changed_id = g_signal_lookup ("items-changed", G_TYPE_LIST_MODEL);
}

PlTrace *
pl_trace_new (gboolean retain)
{
  PlTrace *self = g_object_new (PL_TYPE_TRACE, NULL);

  self->retain = retain;
  return self;
}

gboolean
pl_trace_get_retain (PlTrace *self)
{
  g_return_val_if_fail (PL_IS_TRACE (self), FALSE);
  return self->retain;
}

gulong
pl_trace_add_listener (PlTrace               *self,
                       const PlTraceListener *vtable,
                       gpointer               user_data)
{
  Listener l;

  g_return_val_if_fail (PL_IS_TRACE (self), 0);
  g_return_val_if_fail (vtable != NULL, 0);

  l.id = self->next_listener_id++;
  l.vtable = *vtable;
  l.user_data = user_data;
  g_array_append_val (self->listeners, l);
  return l.id;
}

void
pl_trace_remove_listener (PlTrace *self,
                          gulong   id)
{
  g_return_if_fail (PL_IS_TRACE (self));

  for (guint i = 0; i < self->listeners->len; i++)
    if (g_array_index (self->listeners, Listener, i).id == id)
      {
        g_array_remove_index (self->listeners, i);
        return;
      }
}

/*
 * pl_trace_open_session:
 * Adds a session and gives it the next id. Returns the session, borrowed:
 * it lives as long as the trace holds it (always when retaining, until
 * pl_trace_close_session() otherwise); take a ref to keep it longer.
 */
PlSession *
pl_trace_open_session (PlTrace    *self,
                       PlProtocol  protocol,
                       const char *client,
                       const char *server,
                       double      time)
{
  g_autoptr(PlSession) session = NULL;

  g_return_val_if_fail (PL_IS_TRACE (self), NULL);

  session = pl_session_new (protocol, client, server, time);
  return pl_trace_add_session (self, session);
}

/*
 * pl_trace_add_session:
 * Opens @session, made with pl_session_new() and filled in beforehand (its
 * hop, its hosts), as pl_trace_open_session() does: it gets the next id and
 * the listeners hear of it, so a writer's session line already shows the
 * hop. The trace takes a reference. Returns @session, borrowed as
 * pl_trace_open_session()'s result is.
 */
PlSession *
pl_trace_add_session (PlTrace   *self,
                      PlSession *session)
{
  g_return_val_if_fail (PL_IS_TRACE (self), NULL);
  g_return_val_if_fail (session != NULL, NULL);
  g_return_val_if_fail (session->id == 0, NULL);

  pl_session_ref (session);
  session->id = self->next_session_id++;
  self->n_sessions++;
  g_hash_table_insert (self->sessions, GUINT_TO_POINTER (session->id), session);

  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = &g_array_index (self->listeners, Listener, i);
      if (l->vtable.session_opened != NULL)
        l->vtable.session_opened (session, l->user_data);
    }
  return session;
}

/*
 * A simulation adds a million events a second to a trace that nobody may
 * be watching as a list (the CLI, the benchmark): emitting items-changed to
 * no handler costs more than adding the event. A list view connects to it
 * and hears every change as before.
 */
static gboolean
items_changed_is_heard (PlTrace *self)
{
  return g_signal_has_handler_pending (self, self->items_changed_id, 0, TRUE);
}

/* pl_trace_add_event() and pl_trace_add_event_take(): @event is taken with @take, else borrowed for the call (and ref'd if kept). */
static void
add_event (PlTrace   *self,
           PlSession *session,
           PlEvent   *event,
           gboolean   take)
{
  event->session = session->id;
  if (self->retain)
    {
      if (!take)
        pl_event_ref (event);
      if (self->n_events % EVENT_CHUNK == 0)
        g_ptr_array_add (self->chunks, g_new (PlEvent *, EVENT_CHUNK));
      ((PlEvent **) g_ptr_array_index (self->chunks, self->n_events / EVENT_CHUNK))[self->n_events % EVENT_CHUNK]
        = event;
      self->n_events++;
    }

  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = &g_array_index (self->listeners, Listener, i);
      if (l->vtable.event_added != NULL)
        l->vtable.event_added (session, event, l->user_data);
    }

  if (self->retain && items_changed_is_heard (self))
    g_list_model_items_changed (G_LIST_MODEL (self), self->n_events - 1, 0, 1);
  /* A trace that keeps nothing takes no reference of its own: the caller's holds the event through the call. */
  if (!self->retain && take)
    pl_event_unref (event);
}

/*
 * pl_trace_add_event:
 * Appends @event to @session, which must have been opened in this trace; a
 * trace that keeps its events takes a reference (one that keeps none
 * shows it to its listeners during the call, which is all it needs). The event's session id is set here; its time
 * must already be set by the caller (engines do not read clocks).
 */
void
pl_trace_add_event (PlTrace   *self,
                    PlSession *session,
                    PlEvent   *event)
{
  g_return_if_fail (PL_IS_TRACE (self));
  g_return_if_fail (session != NULL);
  g_return_if_fail (event != NULL);

  add_event (self, session, event, FALSE);
}

/*
 * pl_trace_add_event_take:
 * As pl_trace_add_event(), but the trace takes the caller's reference
 * instead of one of its own: for a driver that adds every event it made
 * and drops it straight after (a simulation adds a million a second, and
 * each reference is an atomic operation).
 */
void
pl_trace_add_event_take (PlTrace   *self,
                         PlSession *session,
                         PlEvent   *event)
{
  g_return_if_fail (PL_IS_TRACE (self));
  g_return_if_fail (session != NULL);
  g_return_if_fail (event != NULL);

  add_event (self, session, event, TRUE);
}

void
pl_trace_close_session (PlTrace   *self,
                        PlSession *session,
                        double     time)
{
  g_return_if_fail (PL_IS_TRACE (self));
  g_return_if_fail (session != NULL);

  if (!pl_session_is_open (session))
    return;
  session->close_time = time;

  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = &g_array_index (self->listeners, Listener, i);
      if (l->vtable.session_closed != NULL)
        l->vtable.session_closed (session, l->user_data);
    }

  if (!self->retain)
    g_hash_table_remove (self->sessions, GUINT_TO_POINTER (session->id));
}

guint
pl_trace_get_n_events (PlTrace *self)
{
  g_return_val_if_fail (PL_IS_TRACE (self), 0);
  return self->n_events;
}

/* Returns the event at @position, borrowed, or NULL. */
PlEvent *
pl_trace_get_event (PlTrace *self,
                    guint    position)
{
  g_return_val_if_fail (PL_IS_TRACE (self), NULL);
  if (position >= self->n_events)
    return NULL;
  return event_at (self, position);
}

guint
pl_trace_get_n_sessions (PlTrace *self)
{
  g_return_val_if_fail (PL_IS_TRACE (self), 0);
  return self->n_sessions;
}

/* Returns the session with @id, borrowed, or NULL if unknown or dropped. */
PlSession *
pl_trace_get_session (PlTrace *self,
                      guint    id)
{
  g_return_val_if_fail (PL_IS_TRACE (self), NULL);
  return g_hash_table_lookup (self->sessions, GUINT_TO_POINTER (id));
}
