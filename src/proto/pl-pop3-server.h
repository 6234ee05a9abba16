/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlPop3Server: the server side of POP3 (RFC 1939, RFC 2449), sans-I/O. */
#pragma once

#include "pl-engine.h"
#include "pl-mail-store.h"

G_BEGIN_DECLS

typedef enum {
  PL_POP3_SERVER_AUTHORIZATION = 0,
  PL_POP3_SERVER_TRANSACTION,
  PL_POP3_SERVER_UPDATE,
  PL_POP3_SERVER_CLOSED,
} PlPop3ServerState;

typedef struct {
  /* Text after "+OK " in the greeting; NULL for the textbook's "POP3 server ready". */
  const char *greeting;
  /* How long to hold back "-ERR" after a failed login, in ms (0: none). */
  guint       auth_failure_delay_ms;
  /* Failed logins before the server closes the connection (0: never). */
  guint       max_auth_failures;
} PlPop3ServerConfig;

/*
 * The longest command line the server reads, CRLF included. RFC 2449
 * section 4 caps commands at 255 octets; real clients stay well under it,
 * but a person at telnet may paste something longer, so the server is
 * lenient up to here before it answers "-ERR line too long".
 */
#define PL_POP3_SERVER_MAX_COMMAND_LINE 512

#define PL_POP3_SERVER_DEFAULT_AUTH_DELAY_MS 1000
#define PL_POP3_SERVER_DEFAULT_MAX_AUTH_FAILURES 3

#define PL_TYPE_POP3_SERVER (pl_pop3_server_get_type ())
G_DECLARE_FINAL_TYPE (PlPop3Server, pl_pop3_server, PL, POP3_SERVER, PlEngine)

/*
 * pl_pop3_server_new:
 * A POP3 server session over @store. @config may be NULL for the defaults
 * (the textbook's wording, a 1 s delay after a failed login). The config is
 * copied. Drive it with the PlEngine calls: pl_engine_start() sends the
 * greeting.
 *
 * Pipelined commands are answered in order, but once 64 KiB of output wait
 * to be sent the server reads no further commands until the driver has sent
 * them (pl_engine_consume_output() lets it carry on). A driver keeps memory
 * bounded by reading no more from the client while output is pending.
 */
PlEngine          *pl_pop3_server_new       (PlMailStore              *store,
                                             const PlPop3ServerConfig *config);
/* As pl_pop3_server_new (@store, @config), in an engine whose session is over (buffers kept): for the simulator. */
gboolean           pl_pop3_server_reset     (PlPop3Server             *self,
                                             PlMailStore              *store,
                                             const PlPop3ServerConfig *config);
/* The RFC 1939 section 3 state the session is in (the engine's state, as an enum). */
PlPop3ServerState  pl_pop3_server_get_state (PlPop3Server             *self);
/* The user logged in (PASS or AUTH PLAIN succeeded), or NULL before that. */
const char        *pl_pop3_server_get_user  (PlPop3Server             *self);

G_END_DECLS
