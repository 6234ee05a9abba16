/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTopology: the hosts and links of a trace, where each session runs, and what each mailbox holds at each step. */
#pragma once

#include <glib-object.h>

#include "pl-sim.h"
#include "pl-trace.h"

G_BEGIN_DECLS

/* What a host is drawn as. */
typedef enum {
  PL_TOPOLOGY_ICON_SERVER = 0,
  PL_TOPOLOGY_ICON_LAPTOP,
  PL_TOPOLOGY_ICON_PHONE,
  PL_TOPOLOGY_ICON_BROWSER,
} PlTopologyIcon;

/*
 * Columns of the picture, as the textbook draws the mail path: mail goes
 * from left to right, pushed by the left end of each SMTP link and pulled
 * by the right end of each POP3/IMAP/HTTP link.
 */
typedef enum {
  PL_TOPOLOGY_COLUMN_SENDERS = 0,    /* user agents that submit */
  PL_TOPOLOGY_COLUMN_SENDING,        /* sending servers (they relay) */
  PL_TOPOLOGY_COLUMN_RECEIVING,      /* receiving servers (they hold mailboxes) */
  PL_TOPOLOGY_COLUMN_READERS,        /* user agents that pull */
  PL_TOPOLOGY_N_COLUMNS
} PlTopologyColumn;

typedef struct {
  guint             index;
  char             *name;      /* "mail.b.example", "bob-laptop", "192.0.2.7" */
  char             *subtitle;  /* "receiving server", "Bob's user agent" (translated) */
  char             *address;   /* or NULL */
  PlHostRole        role;
  PlTopologyIcon    icon;
  PlTopologyColumn  column;
  guint             row;       /* 0, 1, ... within its column */
  guint             n_sessions;
} PlTopologyHost;

typedef struct {
  guint       index;
  guint       a;              /* host indices */
  guint       b;
  double      latency;        /* seconds one way; 0 when not known */
  gboolean    push;           /* carried SMTP */
  gboolean    pull;           /* carried POP3, IMAP or HTTP */
  guint       push_server;    /* when @push: the host SMTP pushed to */
  guint       pull_server;    /* when @pull: the host mail was pulled from */
  PlProtocol  pull_protocol;  /* when @pull: how (the last protocol seen) */
  guint       n_sessions;
  guint       n_push;         /* sessions of each kind: @push and @pull say whether there are any */
  guint       n_pull;
  gboolean    wired;          /* a link of the simulated world: drawn even when nothing crosses it */
} PlTopologyLink;

/* A mailbox on a server (or, with @user NULL, a sending server's queue). */
typedef struct {
  guint  host;
  char  *user;          /* "bob@b.example"; NULL for the queue */
} PlTopologyMailbox;

#define PL_TYPE_TOPOLOGY (pl_topology_get_type ())
G_DECLARE_FINAL_TYPE (PlTopology, pl_topology, PL, TOPOLOGY, GObject)

/*
 * For a capture: an empty topology that lays its hosts out from what it
 * is told of sessions and events (pl_topology_add_session(),
 * pl_topology_add_event(), or pl_topology_watch() on a growing trace):
 * hosts from the addresses seen, named by what they say of themselves
 * (an SMTP greeting, an EHLO), their roles from what they do, and for
 * loopback captures of `postlab-cli serve` from the ports of @world
 * (may be NULL).
 */
PlTopology              *pl_topology_new             (PlWorld          *world);
/*
 * For a simulation: the hosts and links of @sim (same indices as
 * pl_sim_get_host()), before it runs; watch the trace it runs into.
 */
PlTopology              *pl_topology_new_for_sim     (PlSim            *sim);

/*
 * For a world of known hosts (the console): empty until
 * pl_topology_add_host(); sessions are placed by the names of their
 * client_host and server_host, as for a simulation.
 */
PlTopology              *pl_topology_new_named       (void);
/* Adds a host to a topology made with pl_topology_new_named(); returns its index. */
guint                    pl_topology_add_host        (PlTopology       *self,
                                                      const char       *name,
                                                      const char       *subtitle,
                                                      PlHostRole        role,
                                                      PlTopologyColumn  column,
                                                      PlTopologyIcon    icon,
                                                      const char       *address);

/*
 * Follows @trace: each session opened and event added is passed to the
 * two calls below. Safe from the thread that fills the trace, as long as
 * nobody else uses the topology meanwhile.
 */
void                     pl_topology_watch           (PlTopology       *self,
                                                      PlTrace          *trace);
void                     pl_topology_unwatch         (PlTopology       *self);
void                     pl_topology_add_session     (PlTopology       *self,
                                                      PlSession        *session);
/* @position is the event's index in its trace. */
void                     pl_topology_add_event       (PlTopology       *self,
                                                      PlSession        *session,
                                                      PlEvent          *event,
                                                      guint             position);

guint                    pl_topology_get_n_hosts     (PlTopology       *self);
const PlTopologyHost    *pl_topology_get_host        (PlTopology       *self,
                                                      guint             index);
/* Hosts in @column, from the top. */
guint                    pl_topology_get_column_size (PlTopology       *self,
                                                      PlTopologyColumn  column);
guint                    pl_topology_get_n_links     (PlTopology       *self);
const PlTopologyLink    *pl_topology_get_link        (PlTopology       *self,
                                                      guint             index);

/* Where session @id runs: its client and server hosts and the link between them. FALSE when unknown. */
gboolean                 pl_topology_get_session_hosts (PlTopology     *self,
                                                        guint           id,
                                                        guint          *client,
                                                        guint          *server,
                                                        guint          *link);

guint                    pl_topology_get_n_mailboxes (PlTopology       *self);
const PlTopologyMailbox *pl_topology_get_mailbox     (PlTopology       *self,
                                                      guint             index);
/*
 * What mailbox @index holds once the steps up to @position are done (the
 * events at indices below @position): its message count and octets. A
 * mailbox's first report is its state from the start. FALSE when nothing
 * is known (a capture says nothing of mailboxes).
 */
gboolean                 pl_topology_get_mailbox_at  (PlTopology       *self,
                                                      guint             index,
                                                      guint             position,
                                                      guint            *count,
                                                      guint64          *octets);
/* Whether mailbox @index ever holds something: one that stays empty need not be drawn. */
gboolean                 pl_topology_mailbox_is_used (PlTopology       *self,
                                                      guint             index);
/* The position at which mailbox @index last changed, at or before @position; 0 when never. */
guint                    pl_topology_get_mailbox_changed_at (PlTopology *self,
                                                             guint       index,
                                                             guint       position);

G_END_DECLS
