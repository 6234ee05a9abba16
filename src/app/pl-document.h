/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlDocument: what a window shows: a trace, its topology, and for simulations the TCP segments. */
#pragma once

#include <gio/gio.h>

#include "pl-topology.h"
#include "pl-trace.h"

G_BEGIN_DECLS

typedef enum {
  PL_DOCUMENT_SCENARIO = 0,  /* a simulation of a scenario */
  PL_DOCUMENT_CAPTURE,       /* a pcap or pcapng file */
  PL_DOCUMENT_LIVE,          /* a capture growing as packets come */
  PL_DOCUMENT_CONSOLE,       /* what the student types in "Try it yourself" */
} PlDocumentKind;

/* One TCP segment of a simulation, in the trace's time. */
typedef struct {
  double   depart;     /* its first bit leaves */
  double   arrive;     /* its last bit arrives */
  guint    session;
  guint    src;        /* topology host indices */
  guint    dst;
  guint32  seq;
  guint32  ack;
  guint32  len;        /* payload octets */
  guint8   flags;      /* PlSimTcpFlags */
} PlDocumentSegment;

#define PL_TYPE_DOCUMENT (pl_document_get_type ())
G_DECLARE_FINAL_TYPE (PlDocument, pl_document, PL, DOCUMENT, GObject)

/* A document over @trace (retained) and @topology; @file may be NULL. */
PlDocument              *pl_document_new            (PlDocumentKind  kind,
                                                     const char     *title,
                                                     GFile          *file,
                                                     PlTrace        *trace,
                                                     PlTopology     *topology);

PlDocumentKind           pl_document_get_kind       (PlDocument     *self);
const char              *pl_document_get_title      (PlDocument     *self);
GFile                   *pl_document_get_file       (PlDocument     *self);
PlTrace                 *pl_document_get_trace      (PlDocument     *self);
PlTopology              *pl_document_get_topology   (PlDocument     *self);
/* What times are shown from: the first session's opening, or 0. */
double                   pl_document_get_time_origin (PlDocument    *self);

/* Takes @segments (a GArray of PlDocumentSegment, by departure). */
void                     pl_document_take_segments  (PlDocument     *self,
                                                     GArray         *segments);
guint                    pl_document_get_n_segments (PlDocument     *self);
const PlDocumentSegment *pl_document_get_segment    (PlDocument     *self,
                                                     guint           index);
/* The index of the first segment that departs at or after @time (n when none does). */
guint                    pl_document_find_segment   (PlDocument     *self,
                                                     double          time);

G_END_DECLS
