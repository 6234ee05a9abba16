/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimScenario: what a simulation runs, read from a small text format an instructor can write. */
#pragma once

#include <glib-object.h>

#include "pl-sim-clock.h"
#include "pl-types.h"
#include "pl-world.h"

G_BEGIN_DECLS

/*
 * A user agent: one device of one user of the world (Bob's laptop, Bob's
 * phone). It sends by SMTP submission to its domain's server and pulls
 * with its own protocol and options, so that one user can have several
 * devices that pull differently (the lesson of POP3 download-and-delete).
 */
typedef struct {
  char        *name;        /* "bob-laptop" */
  char        *user;        /* the world's user it belongs to, "bob@b.example" */
  PlProtocol   protocol;    /* how it pulls: PL_PROTOCOL_POP3 (IMAP, HTTP later); UNKNOWN: it does not pull */
  char       **options;     /* the protocol's options as written ("delete", "keep"); never NULL */
  gboolean     pop3_delete; /* POP3: download-and-delete (TRUE, the default) or leave-on-server ("keep") */
  gboolean     auth;        /* SMTP submission with AUTH PLAIN (the default; "noauth" to see relaying refused) */
  char        *address;     /* an IPv4 literal given in the scenario, or NULL: one is assigned */
  guint        line;
} PlSimDevice;

/* A link between two hosts; the default link has no host names. */
typedef struct {
  char        *a;           /* host name, or NULL for the default */
  char        *b;
  PlSimTime    latency;     /* one way */
  guint64      bandwidth;   /* bits per second; 0: no limit */
  guint        line;
} PlSimLinkSpec;

/* What a user's mailbox holds when the simulation starts. */
typedef struct {
  char        *user;        /* "bob@b.example" */
  GPtrArray   *messages;    /* of GBytes*, CRLF line ends, in order */
  guint        line;
} PlSimMailboxSpec;

typedef enum {
  PL_SIM_ACTION_SEND = 0,   /* a device submits a message (SMTP submission, then relay) */
  PL_SIM_ACTION_PULL,       /* a device pulls its user's mail with its protocol */
} PlSimActionKind;

/* One thing that happens at a virtual time. */
typedef struct {
  PlSimActionKind  kind;
  PlSimTime        at;
  char            *device;
  char           **recipients; /* send: the envelope recipients */
  GBytes          *message;    /* send: the message as written (not dot-stuffed), CRLF line ends */
  char           **script;     /* pull: command lines typed instead of the client's plan, or NULL */
  guint            line;
} PlSimAction;

/*
 * A box in the picture: a mail server of the world or a device of the
 * scenario, with the one IPv4 address it has in the simulation (from the
 * documentation ranges of RFC 5737 unless the scenario gives one).
 */
typedef struct {
  char                *name;    /* "mail.b.example", "bob-laptop" */
  PlHostRole           role;
  char                *owner;   /* devices: their user, "bob@b.example"; servers: NULL */
  char                *domain;  /* the mail domain it belongs to, "b.example" */
  guint32              address; /* IPv4, host byte order */
  const PlSimDevice   *device;  /* NULL for a server */
  const PlWorldServer *server;  /* NULL for a device */
} PlSimHostSpec;

#define PL_SIM_DEFAULT_MSS        1460
#define PL_SIM_DEFAULT_SEED       1
#define PL_SIM_DEFAULT_LATENCY    (5 * PL_SIM_NS_PER_MS)
#define PL_SIM_DEFAULT_BANDWIDTH  G_GUINT64_CONSTANT (100000000)
#define PL_SIM_DEFAULT_DNS_DELAY  (10 * PL_SIM_NS_PER_MS)
/* 2025-04-14T11:30:00Z: the morning of the textbook mailbox's messages. */
#define PL_SIM_DEFAULT_EPOCH      G_GINT64_CONSTANT (1744630200)

#define PL_TYPE_SIM_SCENARIO (pl_sim_scenario_get_type ())
G_DECLARE_FINAL_TYPE (PlSimScenario, pl_sim_scenario, PL, SIM_SCENARIO, GObject)

/*
 * pl_sim_scenario_new_from_data:
 * Reads a scenario (lessons/textbook.scenario documents the format) and
 * checks it against its world: the one its "world FILE" line names (read
 * relative to @base_dir), else @world, else the built-in default world.
 * Every mistake is a PL_SIM_ERROR_SCENARIO whose message starts with
 * "@source:LINE: ". A scenario that reads is one that runs.
 */
PlSimScenario          *pl_sim_scenario_new_from_data   (const char     *data,
                                                          gssize          len,
                                                          const char     *source,
                                                          const char     *base_dir,
                                                          PlWorld        *world,
                                                          GError        **error);
/* Reads the scenario file @path; the file name is the source in messages. */
PlSimScenario          *pl_sim_scenario_new_from_file   (const char     *path,
                                                          PlWorld        *world,
                                                          GError        **error);
/* The built-in default: the textbook scenario (lessons/textbook.scenario), on @world or the default world. */
PlSimScenario          *pl_sim_scenario_new_default     (PlWorld        *world,
                                                          GError        **error);
/* The text of the built-in scenario called @name ("textbook", "two-devices"), or NULL. */
GBytes                 *pl_sim_scenario_get_builtin     (const char     *name);

const char             *pl_sim_scenario_get_source      (PlSimScenario  *self);
PlWorld                *pl_sim_scenario_get_world       (PlSimScenario  *self);
guint                   pl_sim_scenario_get_mss         (PlSimScenario  *self);
guint64                 pl_sim_scenario_get_seed        (PlSimScenario  *self);
/* The wall time (seconds since 1970) that virtual time 0 stands for: in Date:, Received: and the pcap. */
gint64                  pl_sim_scenario_get_epoch       (PlSimScenario  *self);
PlSimTime               pl_sim_scenario_get_dns_delay   (PlSimScenario  *self);

guint                   pl_sim_scenario_get_n_devices   (PlSimScenario  *self);
const PlSimDevice      *pl_sim_scenario_get_device      (PlSimScenario  *self,
                                                          guint           index);
const PlSimDevice      *pl_sim_scenario_lookup_device   (PlSimScenario  *self,
                                                          const char     *name);
/* Servers first (in the world's order), then devices (in the scenario's). */
guint                   pl_sim_scenario_get_n_hosts     (PlSimScenario  *self);
const PlSimHostSpec    *pl_sim_scenario_get_host        (PlSimScenario  *self,
                                                          guint           index);
/* The host called @name (servers in any case), or NULL. */
const PlSimHostSpec    *pl_sim_scenario_lookup_host     (PlSimScenario  *self,
                                                          const char     *name);
/* The link between @a and @b in either order, or the default link. */
const PlSimLinkSpec    *pl_sim_scenario_get_link        (PlSimScenario  *self,
                                                          const char     *a,
                                                          const char     *b);
guint                   pl_sim_scenario_get_n_links     (PlSimScenario  *self);
const PlSimLinkSpec    *pl_sim_scenario_get_nth_link    (PlSimScenario  *self,
                                                          guint           index);
/* The mailbox @user starts with, or NULL when the scenario leaves it to the world. */
const PlSimMailboxSpec *pl_sim_scenario_get_mailbox     (PlSimScenario  *self,
                                                          const char     *user);
/* The actions in time order (equal times in file order). */
guint                   pl_sim_scenario_get_n_actions   (PlSimScenario  *self);
const PlSimAction      *pl_sim_scenario_get_action      (PlSimScenario  *self,
                                                          guint           index);

/*
 * Reads a virtual time as scenarios write it: a decimal number and a unit,
 * "1.5s", "250ms", "20us", "3ns", "2min"; a bare number is seconds. No
 * sign, no exponent, nothing finer than a nanosecond, at most 10^6 s.
 */
gboolean                pl_sim_parse_time               (const char     *text,
                                                          PlSimTime      *out);
/* Reads a bandwidth: "10Mbit/s", "100kbit", "1Gbit/s", "56000" (bits per second), "unlimited" (0). */
gboolean                pl_sim_parse_bandwidth          (const char     *text,
                                                          guint64        *out);

G_END_DECLS
