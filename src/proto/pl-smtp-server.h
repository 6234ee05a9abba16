/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSmtpServer: the server side of SMTP (RFC 5321, with SIZE, PIPELINING, 8BITMIME and AUTH), sans-I/O. */
#pragma once

#include "pl-engine.h"
#include "pl-smtp-grammar.h"

G_BEGIN_DECLS

typedef enum {
  PL_SMTP_SERVER_CONNECTED = 0,  /* greeting sent; HELO or EHLO comes first */
  PL_SMTP_SERVER_READY,          /* greeted, no mail transaction */
  PL_SMTP_SERVER_AUTH,           /* in an AUTH exchange (RFC 4954): the next line is a SASL response */
  PL_SMTP_SERVER_MAIL,           /* MAIL FROM accepted, no recipient yet */
  PL_SMTP_SERVER_RCPT,           /* at least one recipient accepted */
  PL_SMTP_SERVER_DATA,           /* after 354: reading the message up to "." */
  PL_SMTP_SERVER_CLOSED,
} PlSmtpServerState;

#define PL_TYPE_SMTP_SERVER (pl_smtp_server_get_type ())
G_DECLARE_FINAL_TYPE (PlSmtpServer, pl_smtp_server, PL, SMTP_SERVER, PlEngine)

/* What a finished DATA hands to the deliver callback (RFC 5321 2.3.1: envelope and content). */
typedef struct {
  const char        *id;              /* the id in the Received: header */
  const char        *helo;            /* the HELO/EHLO argument */
  const char        *client_address;  /* as the driver gave it, or NULL */
  const char        *mail_from;       /* "" for the null sender (a bounce) */
  const char *const *recipients;      /* the accepted ones, NULL-terminated */
  guint              n_recipients;
  const char        *auth_user;       /* NULL when not authenticated */
  gboolean           trusted;
  gboolean           body_8bitmime;   /* MAIL FROM had BODY=8BITMIME */
} PlSmtpEnvelope;

/*
 * Everything the engine needs from the world, given at construction, so
 * that the loopback server, the simulator and the tests each bring their
 * own. Each is called during pl_engine_feed() and must answer at once.
 * Replies are handed over (the engine frees them); a reply's text may hold
 * '\n' for a multi-line reply.
 */
typedef struct {
  /* Required when AUTH is offered (RFC 4954). */
  gboolean     (*check_password)  (PlSmtpServer         *server,
                                   const char           *user,
                                   const char           *password,
                                   gpointer              user_data);
  /* Optional. NULL (or a NULL reply) accepts with "250 <address> ... Sender ok". */
  PlSmtpReply *(*check_sender)    (PlSmtpServer         *server,
                                   const char           *address,
                                   const char           *auth_user,
                                   gpointer              user_data);
  /*
   * Required: the relay policy lives here, not in the engine. A 2xx reply
   * (or NULL) accepts, with "250 <address> ... Recipient ok" for NULL; 550
   * for an unknown user, 550 or 554 "relay access denied" for a domain
   * this server does not serve when the client is neither authenticated
   * nor @trusted, 452 when there is no room, ...
   */
  PlSmtpReply *(*check_recipient) (PlSmtpServer         *server,
                                   const char           *address,
                                   const char           *auth_user,
                                   gboolean              trusted,
                                   gpointer              user_data);
  /*
   * Required: store the message durably (delivered, or queued for relay)
   * and say so with a 2xx reply; only then does the client get 250 (RFC
   * 5321 4.1.1.4, 6.1). @message is the content after dot-unstuffing with
   * CRLF line ends and this hop's Received: header in front. Any other
   * reply goes to the client as it is; NULL counts as "451 local error".
   */
  PlSmtpReply *(*deliver)         (PlSmtpServer         *server,
                                   const PlSmtpEnvelope *envelope,
                                   GBytes               *message,
                                   gpointer              user_data);
  /* Required: the date-time for the Received: header (RFC 5322 3.3), newly allocated. */
  char        *(*now)             (PlSmtpServer         *server,
                                   gpointer              user_data);
  /* Optional: a new message id (newly allocated); NULL counts 1, 2, ... per engine. */
  char        *(*new_id)          (PlSmtpServer         *server,
                                   gpointer              user_data);
} PlSmtpServerCallbacks;

typedef struct {
  const char *hostname;              /* "mail.b.example"; required */
  const char *greeting;              /* text after "220 "; NULL: "<hostname> ESMTP Postlab" */
  gsize       max_message_size;      /* octets, advertised as SIZE (RFC 1870); 0: 10 MiB */
  guint       max_recipients;        /* per message (RFC 5321 4.5.3.1.8 asks for 100); 0: 100 */
  gboolean    offer_auth;            /* advertise and accept AUTH PLAIN and LOGIN */
  guint       auth_failure_delay_ms; /* held back before a 535 */
  const char *client_address;        /* shown in the Received: header; NULL: "unknown" */
  gboolean    peer_trusted;          /* passed to check_recipient (loopback on the sending server) */
} PlSmtpServerConfig;

#define PL_SMTP_SERVER_DEFAULT_MAX_MESSAGE_SIZE (10 * 1024 * 1024)
#define PL_SMTP_SERVER_DEFAULT_MAX_RECIPIENTS 100
#define PL_SMTP_SERVER_DEFAULT_AUTH_DELAY_MS 1000

/*
 * The longest line the server reads, CRLF included, commands and message
 * text alike: RFC 5321 4.5.3.1.6's 1000 for text. Commands may be 512
 * (4.5.3.1.4), but 4.5.3.1 asks servers to be lenient, and RFC 4954
 * section 4 lets an AUTH line with its initial response run longer.
 */
#define PL_SMTP_SERVER_MAX_LINE PL_SMTP_MAX_TEXT_LINE

/*
 * pl_smtp_server_new:
 * An SMTP server session. @config and @callbacks are copied; @user_data is
 * passed to every callback and freed with @destroy (may be NULL) when the
 * engine goes. Drive it with the PlEngine calls: pl_engine_start() sends
 * the 220 greeting.
 *
 * HELO or EHLO is required before MAIL (RFC 5321 4.1.4: a client "MUST
 * issue HELO or EHLO before starting a mail transaction"); MAIL before it
 * gets 503. Pipelined commands (RFC 2920) are answered in order; once 64
 * KiB of replies wait to be sent, nothing more is read until the driver
 * has sent them (pl_engine_consume_output()), so memory stays bounded.
 */
PlEngine          *pl_smtp_server_new             (const PlSmtpServerConfig    *config,
                                                   const PlSmtpServerCallbacks *callbacks,
                                                   gpointer                     user_data,
                                                   GDestroyNotify               destroy);
gboolean           pl_smtp_server_reset           (PlSmtpServer                *self,
                                                   const PlSmtpServerConfig    *config,
                                                   const PlSmtpServerCallbacks *callbacks,
                                                   gpointer                     user_data,
                                                   GDestroyNotify               destroy);
/*
 * Who the client is, for a driver that learns it after making the engine
 * (before pl_engine_start()): @address goes into the Received: header,
 * @trusted to check_recipient.
 */
void               pl_smtp_server_set_peer        (PlSmtpServer                *self,
                                                   const char                  *address,
                                                   gboolean                     trusted);
PlSmtpServerState  pl_smtp_server_get_state       (PlSmtpServer                *self);
/* The user that AUTH logged in, or NULL. */
const char        *pl_smtp_server_get_auth_user   (PlSmtpServer                *self);
/* The HELO/EHLO argument, or NULL before it. */
const char        *pl_smtp_server_get_helo        (PlSmtpServer                *self);
/* How many messages deliver() accepted in this session. */
guint              pl_smtp_server_get_n_delivered (PlSmtpServer                *self);

G_END_DECLS
