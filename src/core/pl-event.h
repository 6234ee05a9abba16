/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlEvent: one protocol data unit of a session, with its exact octets. */
#pragma once

#include <glib-object.h>

#include "pl-types.h"

G_BEGIN_DECLS

#define PL_TYPE_EVENT (pl_event_get_type ())

/*
 * One protocol data unit as the protocol's own grammar defines it (DESIGN.md,
 * "The model"): a command line, a whole reply (continuation lines and
 * dot-terminated bodies included), a message body, or a note.
 *
 * The fields are public for reading. Whoever creates an event may fill them
 * in until the event is added to a trace; after that it is read-only and is
 * shared by reference count.
 *
 * @octets holds exactly what crossed the wire for this unit: the octets of
 * all events of one direction of a session, concatenated, are that
 * direction's byte stream. Notes carry no octets (NULL).
 */
typedef struct _PlEvent {
  /*< private >*/
  gint         ref_count;
  guint        inline_size; /* octets after the struct that hold its strings (pl_event_new_unit()); top bit: in a slab */
  /*< public >*/
  guint        session;   /* id of the session in its trace, 0 until added */
  /*< private >*/
  guint        slab_offset; /* where it is in its slab (pl_event_new_unit()), in what was padding */
  /*< public >*/
  double       time;      /* seconds: epoch for captures, virtual for simulations */
  PlEventKind  kind;
  PlDirection  dir;
  GBytes      *octets;    /* exact octets; NULL for notes */
  char        *text;      /* display text, UTF-8, lines separated by '\n' */
  char        *verb;      /* commands: the verb in upper case */
  char        *args;      /* commands: the arguments as sent */
  char        *tag;       /* IMAP tag */
  char        *status;    /* replies: "+OK", "-ERR", "250", "OK", ... */
} PlEvent;

GType     pl_event_get_type   (void) G_GNUC_CONST;

PlEvent  *pl_event_new        (PlEventKind   kind,
                               PlDirection   dir,
                               const guint8 *octets,
                               gsize         len);
PlEvent  *pl_event_new_take   (PlEventKind   kind,
                               PlDirection   dir,
                               GBytes       *octets,
                               char         *text);
PlEvent  *pl_event_new_unit   (PlEventKind   kind,
                               PlDirection   dir,
                               const guint8 *octets,
                               gsize         len,
                               char         *text,
                               const char   *status,
                               const char   *verb,
                               const char   *args);
PlEvent  *pl_event_new_unit_full (PlEventKind   kind,
                                  PlDirection   dir,
                                  const guint8 *octets,
                                  gsize         len,
                                  const char   *text,
                                  const char   *tag,
                                  const char   *status,
                                  const char   *verb,
                                  const char   *args);
PlEvent  *pl_event_new_note   (const char   *format,
                               ...) G_GNUC_PRINTF (1, 2);
PlEvent  *pl_event_new_body   (PlEventKind   kind,
                               PlDirection   dir,
                               const guint8 *octets,
                               gsize         len,
                               const char   *status);
PlEvent  *pl_event_new_note_copy (const char *text,
                                  const char *verb,
                                  const char *args);
/* While a thread shares, identical units share their memory (see pl-event.c); for a trace that keeps them all. */
void      pl_event_share_begin (void);
void      pl_event_share_end   (void);
PlEvent  *pl_event_ref        (PlEvent      *event);
void      pl_event_unref      (PlEvent      *event);

void      pl_event_set_verb   (PlEvent      *event,
                               const char   *verb,
                               const char   *args);
void      pl_event_set_status (PlEvent      *event,
                               const char   *status);
void      pl_event_set_tag    (PlEvent      *event,
                               const char   *tag);
void      pl_event_take_text  (PlEvent      *event,
                               char         *text);

const guint8 *pl_event_get_data (const PlEvent *event,
                                 gsize         *len);

/*
 * The octets a display text shows as they are, printable ASCII and TAB (1;
 * every other octet 0): the rules of pl_display_text_from_octets(), shared
 * with the JSON writer, which writes the same text escaped in one pass.
 */
extern const guint8 pl_display_plain[256];

char     *pl_display_text_from_octets (const guint8 *data,
                                       gsize         len,
                                       gboolean      unstuff_dots);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlEvent, pl_event_unref)

G_END_DECLS
