/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlPcapSource: packets from a pcap or pcapng file, standard input, memory, or a live interface (libpcap). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * One packet as the capture holds it. @data has @caplen octets and is
 * borrowed until the next pl_pcap_source_next(); @len is the packet's length
 * on the wire (more than @caplen when the capture cut it at its snaplen).
 */
typedef struct {
  double        time;     /* seconds since the epoch */
  const guint8 *data;
  guint32       caplen;
  guint32       len;
  guint64       offset;   /* where its record starts in the file; G_MAXUINT64 when live */
  guint64       number;   /* 1 for the first packet */
} PlPacket;

/* What a live capture is asked for; zero-initialised means the defaults. */
typedef struct {
  int       snaplen;      /* octets kept of each packet; 0 for a loopback packet's most, 65664 */
  gboolean  promiscuous;  /* off unless asked: a student's machine should see its own traffic only */
  gboolean  buffered;     /* FALSE (default): immediate mode, packets as they come */
} PlLiveOptions;

typedef struct _PlPcapSource PlPcapSource;

/*
 * Opens a pcap or pcapng file, or standard input for "-". The format is
 * checked here: an empty file, a text file or a link type Postlab cannot
 * read fails with PL_TRACE_ERROR_FORMAT or _LINK_TYPE, the message naming
 * the file and the offset.
 */
PlPcapSource *pl_pcap_source_open_file   (const char           *path,
                                          GError              **error);
/* The same on octets in memory (tests, fuzzing); @data must outlive the source. @name is used in messages. */
PlPcapSource *pl_pcap_source_open_bytes  (const guint8         *data,
                                          gsize                 len,
                                          const char           *name,
                                          GError              **error);
/*
 * Starts a live capture (pcap_create, pcap_activate) on @interface ("lo",
 * "any", ...). Without the right to capture it fails with
 * PL_TRACE_ERROR_PERMISSION; an unknown interface gives _NO_DEVICE.
 */
PlPcapSource *pl_pcap_source_open_live   (const char           *interface,
                                          const PlLiveOptions  *options,
                                          GError              **error);
void          pl_pcap_source_free        (PlPcapSource         *self);

/* Keeps only packets that match the BPF expression (pcap-filter(7)). */
gboolean      pl_pcap_source_set_filter  (PlPcapSource         *self,
                                          const char           *expression,
                                          GError              **error);
/* Writes every packet read from now on to @path as a pcap file (flushed as it goes when live, closed by _free). */
gboolean      pl_pcap_source_dump_to     (PlPcapSource         *self,
                                          const char           *path,
                                          GError              **error);

/*
 * Reads the next packet. Returns FALSE at the end (error unset), when
 * pl_pcap_source_break() was called, or on an error: a record that cannot be
 * read (PL_TRACE_ERROR_TRUNCATED, _RECORD), its message naming the file and
 * the record's offset. Everything before it was returned as usual.
 */
gboolean      pl_pcap_source_next        (PlPcapSource         *self,
                                          PlPacket             *packet,
                                          GError              **error);
/*
 * Ends the reading at the next packet (a live capture: or its timeout; a
 * read that waits on a pipe returns when a signal interrupts it); safe to
 * call from a signal handler.
 */
void          pl_pcap_source_break       (PlPcapSource         *self);
/* TRUE once pl_pcap_source_break() was called: the input was left, not read to its end. */
gboolean      pl_pcap_source_was_stopped (PlPcapSource         *self);

int           pl_pcap_source_get_link_type (PlPcapSource       *self);
const char   *pl_pcap_source_get_name    (PlPcapSource         *self);
gboolean      pl_pcap_source_is_live     (PlPcapSource         *self);
/* Live: packets the kernel handed over and dropped (pcap_stats). FALSE when not known. */
gboolean      pl_pcap_source_get_stats   (PlPcapSource         *self,
                                          guint                *received,
                                          guint                *dropped);

/* One capture interface, as `postlab-cli interfaces` lists it. */
typedef struct {
  char      *name;
  char      *description;  /* or NULL */
  char      *addresses;    /* "127.0.0.1, ::1", or "" */
  gboolean   loopback;
  gboolean   up;
  gboolean   running;
} PlCaptureInterface;

void          pl_capture_interface_free  (PlCaptureInterface   *interface);
/* The interfaces libpcap can capture on (pcap_findalldevs), of PlCaptureInterface. */
GPtrArray    *pl_capture_list_interfaces (GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlPcapSource, pl_pcap_source_free)

G_END_DECLS
