/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlEngine: the sans-I/O shape every protocol engine has, server or client. */
#pragma once

#include <glib-object.h>

#include "pl-event.h"

G_BEGIN_DECLS

#define PL_TYPE_ENGINE (pl_engine_get_type ())
G_DECLARE_DERIVABLE_TYPE (PlEngine, pl_engine, PL, ENGINE, GObject)

/*
 * An engine takes the peer's octets in (pl_engine_feed()) and gives octets
 * to send (pl_engine_get_output()) and events (the event function) out. It
 * never touches a socket, a clock or a file by itself: whoever drives it (the
 * loopback servers, the simulator, the tests, the fetch client) moves the
 * octets, stamps the events with a time and adds them to a trace.
 *
 * Events are handed out as they happen, in wire order: for a server engine
 * the client's command, then the server's reply.
 */
typedef void (*PlEngineEventFunc) (PlEngine *engine,
                                   PlEvent  *event,
                                   gpointer  user_data);
typedef void (*PlEngineStateFunc) (PlEngine   *engine,
                                   const char *old_state,
                                   const char *new_state,
                                   gpointer    user_data);

struct _PlEngineClass
{
  GObjectClass parent_class;

  /* The connection is up: a server sends its greeting. */
  void        (*start)           (PlEngine     *self);
  /* Octets from the peer. */
  void        (*receive)         (PlEngine     *self,
                                  const guint8 *data,
                                  gsize         len);
  /* The peer went away (or the driver gave up): no more input will come. */
  void        (*connection_lost) (PlEngine     *self);
  const char *(*state_name)      (PlEngine     *self,
                                  guint         state);
  /*
   * Optional: all output so far has been sent (pl_engine_consume_output()
   * emptied it). An engine that stopped reading input to bound its pending
   * output carries on here; anything it queues is there for the driver's
   * next pl_engine_get_output().
   */
  void        (*output_drained)  (PlEngine     *self);
};

PlProtocol    pl_engine_get_protocol     (PlEngine          *self);
void          pl_engine_set_event_func   (PlEngine          *self,
                                          PlEngineEventFunc  func,
                                          gpointer           user_data);
void          pl_engine_set_received_events (PlEngine       *self,
                                             gboolean        wanted);
void          pl_engine_set_state_func   (PlEngine          *self,
                                          PlEngineStateFunc  func,
                                          gpointer           user_data);
void          pl_engine_start            (PlEngine          *self);
void          pl_engine_feed             (PlEngine          *self,
                                          const guint8      *data,
                                          gsize              len);
void          pl_engine_connection_lost  (PlEngine          *self);
const guint8 *pl_engine_get_output       (PlEngine          *self,
                                          gsize             *len);
void          pl_engine_consume_output   (PlEngine          *self,
                                          gsize              len);
/* Sends @len octets of an engine's output (see pl_engine_drain_output()). */
typedef void (*PlEngineOutputFunc) (const guint8 *data,
                                    gsize         len,
                                    gpointer      user_data);
gboolean      pl_engine_drain_output     (PlEngine          *self,
                                          guint             *delay,
                                          PlEngineOutputFunc func,
                                          gpointer           user_data);
guint         pl_engine_take_delay       (PlEngine          *self);
gboolean      pl_engine_is_finished      (PlEngine          *self);
gboolean      pl_engine_is_failed        (PlEngine          *self);
guint         pl_engine_get_state        (PlEngine          *self);
const char   *pl_engine_get_state_name   (PlEngine          *self);

/* For engines. */
void          pl_engine_set_protocol     (PlEngine          *self,
                                          PlProtocol         protocol);
void          pl_engine_set_state        (PlEngine          *self,
                                          guint              state);
void          pl_engine_emit             (PlEngine          *self,
                                          PlEvent           *event);
void          pl_engine_emit_note        (PlEngine          *self,
                                          const char        *format,
                                          ...) G_GNUC_PRINTF (2, 3);
gboolean      pl_engine_wants_events     (PlEngine          *self);
gboolean      pl_engine_wants_received_events (PlEngine     *self);
void          pl_engine_write            (PlEngine          *self,
                                          const guint8      *data,
                                          gsize              len);
PlEvent      *pl_engine_send             (PlEngine          *self,
                                          PlEventKind        kind,
                                          const guint8      *data,
                                          gsize              len);
void          pl_engine_request_delay    (PlEngine          *self,
                                          guint              milliseconds);
void          pl_engine_finish           (PlEngine          *self,
                                          gboolean           failed);

G_END_DECLS
