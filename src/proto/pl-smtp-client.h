/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSmtpClient: the client side of SMTP (RFC 5321, with PIPELINING, SIZE, 8BITMIME and AUTH), sans-I/O. */
#pragma once

#include "pl-engine.h"

G_BEGIN_DECLS

typedef struct {
  const char         *helo_name;     /* the EHLO/HELO argument, "mail.a.example"; required */
  /*
   * Addresses without angle brackets. Nothing that goes into a command line
   * (these, helo_name, script lines) may hold a control character: check
   * what a user typed with pl_smtp_parse_path() first.
   */
  const char         *mail_from;     /* the envelope sender; "" for the null sender of a bounce */
  const char *const  *recipients;    /* NULL-terminated, at least one (without a script) */
  GBytes             *message;       /* not dot-stuffed: the engine stuffs, and sends CRLF line ends */
  /* When set, AUTH PLAIN (or LOGIN, if that is all the server offers) before MAIL (RFC 4954). */
  const char         *auth_user;
  const char         *auth_password;
  /* Wait for each reply even when the server offers PIPELINING (RFC 2920). */
  gboolean            no_pipelining;
  /*
   * When set, instead of the plan, send these lines (without line ends) one
   * at a time, each after the reply to the one before, as a person at
   * telnet would. After a line "DATA" answered 354, the lines up to and
   * including a line "." are the message, sent as typed (stuff dots by
   * hand, as the person must) as one unit; if DATA is refused they are
   * skipped.
   */
  const char *const  *script;
} PlSmtpClientConfig;

typedef enum {
  PL_SMTP_CLIENT_GREETING = 0,  /* waiting for the 220 */
  PL_SMTP_CLIENT_EHLO,
  PL_SMTP_CLIENT_HELO,          /* EHLO was refused: RFC 5321 4.1.4's fallback */
  PL_SMTP_CLIENT_AUTH,
  PL_SMTP_CLIENT_MAIL,
  PL_SMTP_CLIENT_RCPT,
  PL_SMTP_CLIENT_DATA,
  PL_SMTP_CLIENT_MESSAGE,       /* the message is sent; waiting for the reply to "." */
  PL_SMTP_CLIENT_QUIT,
  PL_SMTP_CLIENT_SCRIPT,        /* running a script */
  PL_SMTP_CLIENT_DONE,
} PlSmtpClientState;

/* What happened to a message, as a queue must know it (RFC 5321 4.2.1, 6.1). */
typedef enum {
  PL_SMTP_VERDICT_NONE = 0,     /* not decided (yet) */
  PL_SMTP_VERDICT_DELIVERED,    /* the server took it: 2xx after the "." */
  PL_SMTP_VERDICT_TEMPORARY,    /* a 4xx, or the connection failed: try again later */
  PL_SMTP_VERDICT_PERMANENT,    /* a 5xx: do not try again; bounce to the sender */
} PlSmtpVerdict;

typedef struct {
  const char    *address;
  PlSmtpVerdict  verdict;
  guint          code;      /* of the reply that decided it; 0 when no reply did */
  const char    *reply;     /* that reply as shown ("550 no such user here"), or why */
} PlSmtpRecipientResult;

typedef struct {
  /*
   * DELIVERED when every recipient was; otherwise TEMPORARY when some
   * recipient is worth trying again, otherwise PERMANENT. The recipients
   * say which is which: some may be delivered while others are refused.
   */
  PlSmtpVerdict                 verdict;
  guint                         code;     /* of the reply that decided the verdict, 0 if none */
  const char                   *reply;
  guint                         n_recipients;
  const PlSmtpRecipientResult  *recipients;
} PlSmtpClientResult;

#define PL_TYPE_SMTP_CLIENT (pl_smtp_client_get_type ())
G_DECLARE_FINAL_TYPE (PlSmtpClient, pl_smtp_client, PL, SMTP_CLIENT, PlEngine)

/*
 * pl_smtp_client_new:
 * A client that sends one message (RFC 5321 3.3): waits for 220, EHLO
 * (HELO if EHLO is refused with 5xx), AUTH if configured, MAIL FROM (with
 * SIZE= when offered, BODY=8BITMIME when offered and needed), RCPT TO for
 * each recipient, DATA, the message, ".", QUIT. With PIPELINING offered,
 * MAIL, the RCPTs and DATA go out in one batch (RFC 2920 3.1). A 421 at any
 * point ends the session (RFC 5321 3.8). The config is copied (the message
 * too, dot-stuffed, ready for the wire).
 *
 * The engine finishes failed unless every recipient got the message; see
 * pl_smtp_client_get_result() for who got what.
 */
PlEngine                 *pl_smtp_client_new        (const PlSmtpClientConfig *config);
gboolean                  pl_smtp_client_reset      (PlSmtpClient             *self,
                                                     const PlSmtpClientConfig *config);
/*
 * The outcome, borrowed (valid as long as the client). Final once the engine
 * has finished; before that, undecided recipients are PL_SMTP_VERDICT_NONE.
 * With a script there are no recipients; the verdict is that of the last
 * message's reply to ".", or NONE when the script sent none.
 */
const PlSmtpClientResult *pl_smtp_client_get_result (PlSmtpClient             *self);
/* What the server offered in its EHLO reply (RFC 5321 4.1.1.1), e.g. "SIZE 10485760"; borrowed, may be empty. */
const char *const        *pl_smtp_client_get_extensions (PlSmtpClient         *self);

const char               *pl_smtp_verdict_to_string (PlSmtpVerdict             verdict);

G_END_DECLS
