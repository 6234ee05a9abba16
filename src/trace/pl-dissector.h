/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlDissector: one TCP connection's two byte streams turned into the model's events, one per protocol unit. */
#pragma once

#include "pl-event.h"

G_BEGIN_DECLS

/*
 * Where a dissector's output goes. @emit receives each event, its time
 * set, borrowed for the call (take a ref to keep it). @encrypted is called
 * once, when the connection turns to TLS (STARTTLS, STLS, or an
 * implicit-TLS port), with a sentence saying how.
 */
typedef struct {
  void (*emit)      (PlEvent    *event,
                     gpointer    user_data);
  void (*encrypted) (const char *how,
                     gpointer    user_data);
} PlDissectorSink;

typedef struct _PlDissector PlDissector;

/*
 * Receives an event whose display text is not made yet (its text is ""):
 * whoever takes it must set it, pl_display_text_from_octets() of its
 * octets with @unstuff_dots, before any other code sees the event.
 */
typedef void (*PlDissectorUntextedFunc) (PlEvent  *event,
                                         gboolean  unstuff_dots,
                                         gpointer  user_data);

/* A unit (a DATA body, a literal, an HTTP body) longer than this is shown in parts of this size. */
#define PL_DISSECTOR_DEFAULT_MAX_UNIT (4 * 1024 * 1024)

/*
 * A dissector for @protocol (PL_PROTOCOL_UNKNOWN gives one that shows the
 * octets as they come). Whatever it is fed, the octets of its events of
 * each direction, concatenated, are exactly the octets fed in that
 * direction: nothing is dropped, nothing invented.
 */
PlDissector *pl_dissector_new           (PlProtocol              protocol,
                                         const PlDissectorSink  *sink,
                                         gpointer                user_data);
void         pl_dissector_free          (PlDissector            *self);
PlProtocol   pl_dissector_get_protocol  (PlDissector            *self);
void         pl_dissector_set_max_unit  (PlDissector            *self,
                                         gsize                   max_unit);
/*
 * From now on, events whose text would be made from their octets are handed
 * to @func (with the sink's user data) instead of the sink's emit, their text
 * left to make: a tracer can then make it in another thread, where the
 * transcript is written. Other events still go to emit.
 */
void         pl_dissector_defer_text    (PlDissector            *self,
                                         PlDissectorUntextedFunc func);
/*
 * TRUE: the events will not stay long (a trace that keeps none of them): the
 * buffer of a unit gathered across segments is not cut to its length but
 * kept, when its event goes, for a later unit. FALSE by default.
 */
void         pl_dissector_set_transient (PlDissector            *self,
                                         gboolean                transient);
/* The connection is TLS from its first octet (ports 465, 993, 995, 443). */
void         pl_dissector_start_tls     (PlDissector            *self,
                                         const char             *how);
/* In-order octets of one direction (C: sent by the client, S: by the server), received at @time. */
void         pl_dissector_feed          (PlDissector            *self,
                                         PlDirection             dir,
                                         const guint8           *data,
                                         gsize                   len,
                                         double                  time);
/* @missing octets of @dir that the capture does not have: the unit they cut is shown as it is, then a note. */
void         pl_dissector_gap           (PlDissector            *self,
                                         PlDirection             dir,
                                         guint64                 missing,
                                         double                  time);
/* The connection is over: units left open are shown as they are. */
void         pl_dissector_finish        (PlDissector            *self,
                                         double                  time);

/*
 * Protocol detection by content: looks at the first octets one side sent
 * (@len of them, from the start of the stream) and says which protocol
 * they are, and whether they are what a server says (*@from_server TRUE)
 * or a client. PL_PROTOCOL_UNKNOWN when they say nothing; *@need_more is
 * then TRUE while no whole line has come yet. *@tls is TRUE when the
 * octets are a TLS record (the protocol is then the port's business).
 * @port_hint is the protocol the server's port suggests, which lets looser
 * evidence count (an SMTP reply line on port 25 is SMTP; on another port
 * its text must say SMTP).
 */
PlProtocol   pl_protocol_sniff          (const guint8           *data,
                                         gsize                   len,
                                         PlProtocol              port_hint,
                                         gboolean               *from_server,
                                         gboolean               *need_more,
                                         gboolean               *tls);

G_END_DECLS
