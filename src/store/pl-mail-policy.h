/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMailPolicy: what a mail server of the world accepts over SMTP, shared by `serve` and the simulator. */
#pragma once

#include <glib.h>

#include "pl-mail-store.h"
#include "pl-world.h"

G_BEGIN_DECLS

/*
 * The policy of one server of the world (RFC 5321 3.6, 4.1.1.3, 4.5.1;
 * RFC 6409 8), written once for the servers on real sockets (src/net) and
 * the simulated ones (src/sim), whose SMTP callbacks ask it:
 *  - a recipient of the server's own domain must be a user of its store
 *    (matched exactly, then without regard to case), postmaster@ going to
 *    the domain's postmaster: "550 5.1.1 unknown user" otherwise;
 *  - a recipient of another domain is taken only by a sending server, only
 *    from a client that logged in or is on its trusted networks ("550
 *    5.7.1 relay access denied": never an open relay), and only when the
 *    world has a server for that domain ("550 5.1.2");
 *  - a submission (from such a client) without Date: or Message-ID: gets
 *    them; mail relayed by another server is passed on as it came.
 * The policy decides and words the replies; storing, queueing and relaying
 * are the caller's. Replies are an SMTP code and a text (no "\r\n"), which
 * the caller turns into a PlSmtpReply (the store does not use proto).
 */
typedef struct _PlMailPolicy PlMailPolicy;

/* @world, @server (one of the world's) and @store are borrowed: they must outlive the policy. */
PlMailPolicy *pl_mail_policy_new              (PlWorld             *world,
                                               const PlWorldServer *server,
                                               PlMailStore         *store);
void          pl_mail_policy_free             (PlMailPolicy        *self);

/* Splits @address at its last '@' (a quoted local part may hold one); a bare "postmaster" has no domain. */
void          pl_mail_split_address           (const char          *address,
                                               char               **local,
                                               const char         **domain);

/* TRUE when @domain (any case) is the server's own; NULL (a bare "<postmaster>") is too. */
gboolean      pl_mail_policy_is_own_domain    (PlMailPolicy        *self,
                                               const char          *domain);
/*
 * The store user behind @local, a local part of the server's domain, or
 * NULL: exact match first, then without regard to case (RFC 5321 2.4 lets a
 * server do so; people type "Bob"); "postmaster" reaches the domain's
 * postmaster (RFC 5321 4.5.1) when the store has that user.
 */
char         *pl_mail_policy_resolve_user     (PlMailPolicy        *self,
                                               const char          *local);
/* RFC 4954 4: "alice" or "alice@a.example" logs in as the store's user alice; another domain never does. */
gboolean      pl_mail_policy_check_password   (PlMailPolicy        *self,
                                               const char          *user,
                                               const char          *password);
/*
 * RFC 5321 4.1.1.3: whether @address may be a recipient here. @may_relay:
 * the client logged in (RFC 4954) or is on a trusted network. Returns 250
 * or 550, the reply's text in *@text.
 */
guint         pl_mail_policy_check_recipient  (PlMailPolicy        *self,
                                               const char          *address,
                                               gboolean             may_relay,
                                               char               **text);
/*
 * After the data: sorts the envelope's @recipients (NULL-terminated, each
 * accepted by pl_mail_policy_check_recipient()) into the store users of the
 * local ones (@local_users, each once, newly allocated strings) and the
 * other addresses (@remote, borrowed from @recipients). Returns 0, or 451
 * (with *@text) when a local recipient has no mailbox any more, or when
 * there are remote ones and the server keeps no queue.
 */
guint         pl_mail_policy_sort_recipients  (PlMailPolicy        *self,
                                               const char *const   *recipients,
                                               GPtrArray           *local_users,
                                               GPtrArray           *remote,
                                               char               **text);
/*
 * The message to store: a submission (@submission: the client logged in or
 * is trusted) completed with Date: (@now) and Message-ID: (from @id) where
 * missing (RFC 6409 8.2, 8.3), relayed mail as it came (RFC 5321 6.4).
 * @added as pl_submission_complete() gives it.
 */
GBytes       *pl_mail_policy_complete_message (PlMailPolicy        *self,
                                               GBytes              *message,
                                               gboolean             submission,
                                               GDateTime           *now,
                                               const char          *id,
                                               char               **added);

/* The reply to the final "." once the message is stored (@queued: for relaying) as @id: 250 "2.0.0 Ok: ...". */
char         *pl_mail_policy_accepted_text    (const char          *id,
                                               gboolean             queued);
/* 451: the message could not be stored (RFC 5321 4.2.2: the client tries again later). */
#define PL_MAIL_POLICY_NOT_STORED_TEXT "4.3.0 Could not store the message; try again later"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMailPolicy, pl_mail_policy_free)

G_END_DECLS
