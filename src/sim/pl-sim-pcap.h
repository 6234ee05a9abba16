/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimPcapWriter: writes simulated segments as a classic libpcap file, all or nothing. */
#pragma once

#include <glib.h>

#include "pl-sim-segment.h"

G_BEGIN_DECLS

/*
 * The classic libpcap format (what tcpdump -w writes; Wireshark's
 * "libpcap" file type): a 24-octet global header, then one 16-octet record
 * header and the frame per packet. We write the nanosecond variant (magic
 * 0xa1b23c4d) little-endian, link type 1 (Ethernet), whatever the machine,
 * so that the same run gives the same bytes everywhere.
 */
#define PL_SIM_PCAP_MAGIC_NANO       0xa1b23c4du
#define PL_SIM_PCAP_VERSION_MAJOR    2
#define PL_SIM_PCAP_VERSION_MINOR    4
#define PL_SIM_PCAP_LINKTYPE_ETHERNET 1
#define PL_SIM_PCAP_SNAPLEN          262144
#define PL_SIM_PCAP_GLOBAL_HEADER_SIZE 24
#define PL_SIM_PCAP_RECORD_HEADER_SIZE 16

typedef struct _PlSimPcapWriter PlSimPcapWriter;

/*
 * pl_sim_pcap_writer_new:
 * Starts a capture file that will be @path: the packets go to a new
 * temporary file beside it, which pl_sim_pcap_writer_commit() renames to
 * @path, so that @path never holds a partial capture. @epoch is the wall
 * time (seconds since 1970) that virtual time 0 stands for.
 */
PlSimPcapWriter *pl_sim_pcap_writer_new     (const char          *path,
                                             gint64               epoch,
                                             GError             **error);
/* Appends @segment's frame, stamped with its arrival time (captured at the receiver). */
gboolean         pl_sim_pcap_writer_add     (PlSimPcapWriter     *self,
                                             const PlSimSegment  *segment,
                                             GError             **error);
guint64          pl_sim_pcap_writer_get_n_packets (PlSimPcapWriter *self);
/* Flushes, syncs and renames the file into place. */
gboolean         pl_sim_pcap_writer_commit  (PlSimPcapWriter     *self,
                                             GError             **error);
/* Frees the writer; a capture that was not committed is removed. */
void             pl_sim_pcap_writer_free    (PlSimPcapWriter     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSimPcapWriter, pl_sim_pcap_writer_free)

G_END_DECLS
