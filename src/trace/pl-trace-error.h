/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The tracer's error domain: what can go wrong reading a capture. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PL_TRACE_ERROR (pl_trace_error_quark ())

typedef enum {
  PL_TRACE_ERROR_OPEN,        /* the file cannot be opened (missing, unreadable) */
  PL_TRACE_ERROR_FORMAT,      /* not a pcap or pcapng file: empty, text, another format */
  PL_TRACE_ERROR_TRUNCATED,   /* the file ends inside a record */
  PL_TRACE_ERROR_RECORD,      /* a record header no capture can have (length over 256 KiB, caplen > len) */
  PL_TRACE_ERROR_LINK_TYPE,   /* a link type that does not carry IP the way Postlab reads it */
  PL_TRACE_ERROR_PACKET,      /* a packet whose headers cannot be (a TCP header under 20 octets) */
  PL_TRACE_ERROR_PERMISSION,  /* live capture is not permitted to this process */
  PL_TRACE_ERROR_NO_DEVICE,   /* no such interface */
  PL_TRACE_ERROR_FILTER,      /* the BPF filter does not compile */
  PL_TRACE_ERROR_CAPTURE,     /* any other failure of libpcap */
  PL_TRACE_ERROR_WRITE,       /* the -w output cannot be written */
} PlTraceError;

GQuark pl_trace_error_quark (void);

G_END_DECLS
