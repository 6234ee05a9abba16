/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSim: the whole mail path in virtual time, the same engines on simulated hosts, links and TCP. */
#pragma once

#include <glib-object.h>

#include "pl-mail-store.h"
#include "pl-session.h"
#include "pl-sim-link.h"
#include "pl-sim-scenario.h"
#include "pl-sim-segment.h"
#include "pl-trace.h"

G_BEGIN_DECLS

/* The well-known ports the simulated servers listen on. */
#define PL_SIM_PORT_SMTP        25   /* relay, server to server (RFC 5321) */
#define PL_SIM_PORT_SUBMISSION  587  /* user agent to its server (RFC 6409) */
#define PL_SIM_PORT_POP3        110  /* RFC 1939 */
#define PL_SIM_FIRST_EPHEMERAL_PORT 49152  /* RFC 6335 6: where client ports start */

/* A host while the simulation runs. Read-only for everyone but the simulation. */
typedef struct {
  guint                index;
  const PlSimHostSpec *spec;     /* name, role, owner, domain, address */
  PlHost              *host;     /* the model's host, shared by this host's sessions */
  char                *address;  /* "192.0.2.25" */
  guint8               mac[6];   /* 02:00 and the IPv4 address: locally administered */
  PlMailStore         *store;    /* servers: their domain's mailboxes; NULL for devices */
} PlSimHost;

/* Told of every TCP segment as it arrives at its receiver, in time order. */
typedef void (*PlSimSegmentFunc) (const PlSimSegment *segment,
                                  gpointer            user_data);

#define PL_TYPE_SIM (pl_sim_get_type ())
G_DECLARE_FINAL_TYPE (PlSim, pl_sim, PL, SIM, GObject)

/*
 * pl_sim_new:
 * The world of @scenario, ready to run: a host per server of the world and
 * per device of the scenario, each server with an in-memory store holding
 * its domain's users and the mailboxes the scenario (or the world) gives
 * them, links between each device and its server and between servers.
 */
PlSim            *pl_sim_new               (PlSimScenario    *scenario);
PlSimScenario    *pl_sim_get_scenario      (PlSim            *self);

/* Servers first, then devices, in the scenario's order. */
guint             pl_sim_get_n_hosts       (PlSim            *self);
const PlSimHost  *pl_sim_get_host          (PlSim            *self,
                                            guint             index);
const PlSimHost  *pl_sim_lookup_host       (PlSim            *self,
                                            const char       *name);
/* Each device to its server, then each pair of servers: what the topology view draws. */
guint             pl_sim_get_n_links       (PlSim            *self);
const PlSimLink  *pl_sim_get_link          (PlSim            *self,
                                            guint             index);

/* Before pl_sim_run(): who hears of the segments (a pcap writer, the animation). */
void              pl_sim_add_segment_func  (PlSim            *self,
                                            PlSimSegmentFunc  func,
                                            gpointer          user_data);

/*
 * pl_sim_run:
 * Runs the scenario to its end in virtual time, adding its sessions, their
 * events (each stamped with the virtual time it was sent) and notes to
 * @trace as they happen, in time order. Each session records its hosts and
 * hop (submission, relay, access). Notes with a verb say, for a machine as
 * for a person, what the servers hold and do:
 *   "MAILBOX"  args "SERVER USER N OCTETS": what a mailbox holds, at the
 *              start and after every change (delivery, POP3's UPDATE);
 *   "QUEUE"    args "SERVER N": what a sending server's queue holds;
 *   "DNS"      args "MX DOMAIN" (the question), "MX DOMAIN HOST ADDRESS" (the answer);
 *   "TCP"      args "CLIENT SERVER PORT": a connection is being opened (SYN).
 * Nothing reads the wall clock or a random source: the same scenario gives
 * the same trace and the same segments every time. A simulation runs once.
 */
void              pl_sim_run               (PlSim            *self,
                                            PlTrace          *trace);

PlSimTime         pl_sim_get_time          (PlSim            *self);
/* Counts of what the run added to the trace: commands, replies and data; notes; and segments sent. */
guint64           pl_sim_get_n_events      (PlSim            *self);
guint64           pl_sim_get_n_notes       (PlSim            *self);
guint64           pl_sim_get_n_segments    (PlSim            *self);
/* How many messages @user ("bob@b.example") has in their mailbox now. */
guint             pl_sim_count_mailbox     (PlSim            *self,
                                            const char       *user);

/*
 * The topology as JSON Lines, before the trace's own lines: one
 * {"type":"host",...} per host (name, role, owner, domain, address, and
 * for devices how they pull) and one {"type":"link",...} per link (the two
 * host names, latency in seconds, bandwidth in bits per second).
 */
void              pl_sim_append_topology_jsonl (PlSim        *self,
                                                GString      *out);

G_END_DECLS
