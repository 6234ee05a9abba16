/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlWorld: the mail domains, their servers, users and ports, and the queue's timing, read from a world file. */
#pragma once

#include <gio/gio.h>

#include "pl-types.h"

G_BEGIN_DECLS

#define PL_WORLD_ERROR (pl_world_error_quark ())

typedef enum {
  PL_WORLD_ERROR_SYNTAX,     /* not a key file: a line that is no group, key = value or comment */
  PL_WORLD_ERROR_INVALID,    /* a key file, but not a world: unknown key, bad value, missing piece */
  PL_WORLD_ERROR_NOT_FOUND,  /* no such domain, server or service (pl_world_set_port()) */
} PlWorldError;

GQuark pl_world_error_quark (void);

/* The name the built-in world goes by in messages. */
#define PL_WORLD_DEFAULT_SOURCE "world.ini (built in)"

#define PL_WORLD_DEFAULT_MAX_MESSAGE_SIZE (10 * 1024 * 1024)

/* A user of a domain ([user alice@a.example]). Read-only, owned by the world. */
typedef struct {
  char *name;       /* the local part, "alice": the POP3 user and the Maildir's name */
  char *domain;     /* "a.example" */
  char *address;    /* "alice@a.example" */
  char *password;
  char *full_name;  /* "Alice", or NULL */
  char *mailbox;    /* what a new data folder puts in the mailbox: NULL, or "textbook" */
} PlWorldUser;

/* A mail domain ([domain a.example]). Read-only, owned by the world. */
typedef struct {
  char      *name;        /* "a.example", lower case */
  char      *server;      /* the host name of its server, "mail.a.example" */
  char      *postmaster;  /* the user who gets postmaster@ mail, or NULL when the domain has no users */
  GPtrArray *users;       /* of PlWorldUser*, in file order */
} PlWorldDomain;

/* A mail server ([server mail.a.example]). Read-only, owned by the world. */
typedef struct {
  char        *hostname;          /* "mail.a.example", lower case */
  char        *domain;            /* the domain whose server it is */
  PlHostRole   role;              /* PL_ROLE_SENDING_SERVER (relays) or PL_ROLE_RECEIVING_SERVER */
  char       **listen;            /* IP literals, at least one */
  int          smtp_port;         /* -1: no SMTP; 0: any free port */
  int          pop3_port;         /* -1: no POP3; 0: any free port */
  char       **trusted_networks;  /* "127.0.0.0/8", as written; may be empty */
  GPtrArray   *trusted_masks;     /* of GInetAddressMask*, parsed from trusted_networks */
  gsize        max_message_size;  /* octets */
} PlWorldServer;

#define PL_TYPE_WORLD (pl_world_get_type ())
G_DECLARE_FINAL_TYPE (PlWorld, pl_world, PL, WORLD, GObject)

/*
 * pl_world_new_from_data:
 * Reads a world from the text of a world file (a GKeyFile; data/world.ini
 * documents every group and key). @source names it in error messages,
 * usually the file name. Every error names @source and the line:
 * PL_WORLD_ERROR_SYNTAX for a line that is no group, key = value or comment;
 * PL_WORLD_ERROR_INVALID for an unknown group or key, a key given twice, a
 * bad value (a port out of 0-65535, an address that is no IP literal), or a
 * missing piece (a user without a password, a domain without a server, a
 * server that serves no domain). Reading files is the caller's business:
 * the core layer touches no files.
 */
PlWorld             *pl_world_new_from_data      (const char          *data,
                                                  gssize               len,
                                                  const char          *source,
                                                  GError             **error);
/* The default world, compiled into the program (data/world.ini), as pl_world_new_from_data() reads it. */
PlWorld             *pl_world_new_default        (GError             **error);
/* The text of the built-in data/world.ini. */
GBytes              *pl_world_get_default_data   (void);

const char          *pl_world_get_source         (PlWorld             *self);

guint                pl_world_get_n_domains      (PlWorld             *self);
const PlWorldDomain *pl_world_get_domain         (PlWorld             *self,
                                                  guint                index);
/* The domain called @name (any case), or NULL. */
const PlWorldDomain *pl_world_lookup_domain      (PlWorld             *self,
                                                  const char          *name);
guint                pl_world_get_n_servers      (PlWorld             *self);
const PlWorldServer *pl_world_get_server         (PlWorld             *self,
                                                  guint                index);
/* The server with host name @name, or the server of domain @name (any case), or NULL. */
const PlWorldServer *pl_world_lookup_server      (PlWorld             *self,
                                                  const char          *name);
/* The user @local_part of @domain (local part compared exactly, domain in any case), or NULL. */
const PlWorldUser   *pl_world_lookup_user        (PlWorld             *self,
                                                  const char          *domain,
                                                  const char          *local_part);

/*
 * The queue's timing: @n intervals in seconds. A message that could not be
 * passed on is tried again after the first, then after the second, ...;
 * when the try after the last fails too, it is bounced (RFC 5321 4.5.4.1
 * asks for retries spread over at least 4-5 days; a classroom has less time).
 */
const double        *pl_world_get_retry_intervals (PlWorld            *self,
                                                   guint              *n);
/* Seconds; how long the relay waits for a connection, and for each reply. */
double               pl_world_get_connect_timeout (PlWorld            *self);
double               pl_world_get_reply_timeout   (PlWorld            *self);

/*
 * Changes where a service listens, as `serve --port` does: @name is a
 * server's host name or its domain, @protocol PL_PROTOCOL_SMTP or
 * PL_PROTOCOL_POP3, @port 0 to 65535 (0: any free port, to be set to the
 * port bound once listening). Fails with PL_WORLD_ERROR_NOT_FOUND for an
 * unknown server or a service the world does not run.
 */
gboolean             pl_world_set_port           (PlWorld             *self,
                                                  const char          *name,
                                                  PlProtocol           protocol,
                                                  int                  port,
                                                  GError             **error);
/* Replaces the retry intervals (seconds, each > 0, at least one). */
gboolean             pl_world_set_retry_intervals (PlWorld            *self,
                                                   const double       *intervals,
                                                   guint               n,
                                                   GError            **error);
/* Replaces every server's listen addresses (`serve --listen`). Each must be an IP literal. */
gboolean             pl_world_set_listen         (PlWorld             *self,
                                                  const char *const   *addresses,
                                                  GError             **error);

/* The port of @protocol on @server: -1 when it does not serve it. */
int                  pl_world_server_get_port    (const PlWorldServer *server,
                                                  PlProtocol           protocol);
/* TRUE when @address is on one of the server's trusted networks (Postfix's mynetworks). */
gboolean             pl_world_server_trusts      (const PlWorldServer *server,
                                                  GInetAddress        *address);
/*
 * The address other servers connect to: the first listen address, or, when
 * that is an any-address (0.0.0.0, ::), the loopback address of its family.
 */
char                *pl_world_server_dup_connect_address (const PlWorldServer *server);
/* TRUE for a sending server: it relays mail of its users to other domains. */
gboolean             pl_world_server_relays      (const PlWorldServer *server);

G_END_DECLS
