/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTracer: captured packets turned into a trace of sessions and protocol events, streamed as they come. */
#pragma once

#include "pl-pcap-source.h"
#include "pl-trace.h"

G_BEGIN_DECLS

typedef struct {
  guint64 packets;
  guint64 tcp_segments;
  guint64 not_tcp;        /* ARP, UDP, ICMP, ...: not for the tracer */
  guint64 fragments;      /* IP fragments: not reassembled */
  guint64 cut;            /* the capture cut the packet before the end of its TCP header */
  guint64 malformed;
  guint64 octets;         /* of the packets, as captured */
  guint   sessions;
  guint   ignored_flows;  /* connections of no protocol Postlab knows */
} PlTracerStats;

/* A packet-level problem (PL_TRACE_ERROR_PACKET): the packet is skipped and the trace goes on. */
typedef void (*PlTracerWarningFunc) (const GError *warning,
                                     gpointer      user_data);

typedef struct _PlTracer PlTracer;

/*
 * A tracer adds what it finds to @trace: one session per TCP connection of
 * a protocol it recognises (by port, confirmed or found by content), and
 * one event per protocol unit, as soon as each is whole. With a trace that
 * does not retain (pl_trace_new (FALSE)) and writers as listeners, a
 * capture of any size runs in constant memory.
 */
PlTracer            *pl_tracer_new                (PlTrace              *trace);
void                 pl_tracer_free               (PlTracer             *self);
/* Names the input in warnings ("capture.pcap"). */
void                 pl_tracer_set_name           (PlTracer             *self,
                                                   const char           *name);
void                 pl_tracer_set_warning_func   (PlTracer             *self,
                                                   PlTracerWarningFunc   func,
                                                   gpointer              user_data);
/* Connections of no known protocol are shown too, as raw data (by default they are left out). */
void                 pl_tracer_set_show_unknown   (PlTracer             *self,
                                                   gboolean              show);
/*
 * With @threaded, the trace is given its sessions and events by a second
 * thread, in the same order: the display texts are made and the trace's
 * listeners (a printer) run there while this thread reads, reassembles and
 * dissects. Listeners are then called from that thread; by the time
 * pl_tracer_finish() or pl_tracer_run() returns, and before a warning is
 * passed on, every one has been called. Set it before the first packet.
 */
void                 pl_tracer_set_threaded       (PlTracer             *self,
                                                   gboolean              threaded);
/*
 * Threaded: an event whose display text the dissector left to make is
 * handed to @func, in the second thread, just before it joins the trace,
 * instead of its text being made there (event->text is "" then; it is
 * pl_display_text_from_octets (its octets, @unstuff_dots)). For a trace
 * whose only listener writes that text itself straight from the octets
 * (pl_trace_printer_expect_untexted(): JSON Lines), so it is never made.
 */
typedef void (*PlTracerUntextedFunc)             (PlEvent              *event,
                                                   gboolean              unstuff_dots,
                                                   gpointer              user_data);
void                 pl_tracer_set_untexted_func  (PlTracer             *self,
                                                   PlTracerUntextedFunc  func,
                                                   gpointer              user_data);
/* See PlTcpReassembler and PL_DISSECTOR_DEFAULT_MAX_UNIT; 0 keeps a default. */
void                 pl_tracer_set_limits         (PlTracer             *self,
                                                   gsize                 max_unit,
                                                   gsize                 max_buffered,
                                                   guint                 max_flows,
                                                   double                idle_timeout);
/* One packet of a capture whose link type is @link_type (pcap_datalink()). */
void                 pl_tracer_add_packet         (PlTracer             *self,
                                                   int                   link_type,
                                                   const PlPacket       *packet);
/* The input is over: open units and sessions are shown as far as they go, and closed. */
void                 pl_tracer_finish             (PlTracer             *self);
/*
 * Reads every packet of @source, then finishes. Returns FALSE when the
 * source fails (a damaged file): everything before the damage has been
 * traced and finished all the same.
 */
gboolean             pl_tracer_run                (PlTracer             *self,
                                                   PlPcapSource         *source,
                                                   GError              **error);
const PlTracerStats *pl_tracer_get_stats          (PlTracer             *self);

G_END_DECLS
