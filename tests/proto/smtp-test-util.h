/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the SMTP engine tests: a small world behind the server's callbacks. */
#pragma once

#include "pl-smtp-server.h"

G_BEGIN_DECLS

#define PL_TEST_SMTP_HOSTNAME "mail.b.example"
#define PL_TEST_SMTP_NOW      "Mon, 3 Mar 2025 10:00:00 +0000"

/* One message the world accepted, with its envelope copied. */
typedef struct {
  char     *id;
  char     *helo;
  char     *client_address;
  char     *mail_from;
  GStrv     recipients;
  char     *auth_user;
  gboolean  trusted;
  gboolean  body_8bitmime;
  GBytes   *message;
} PlTestSmtpDelivery;

/*
 * The domain b.example, whose users are bob and postmaster; alice (password
 * "secret") and bob ("hungry") may log in. Mail for other domains is relayed
 * only for a trusted or authenticated client, and refused with "550 relay
 * access denied" otherwise: the policy lives here, in the callbacks.
 */
typedef struct {
  GPtrArray   *deliveries;       /* of PlTestSmtpDelivery* */
  PlSmtpReply *deliver_reply;    /* when set, deliver() answers a copy of it and stores nothing */
  gboolean     deliver_null;     /* deliver() answers NULL and stores nothing */
  guint        n_password_checks;
  guint        n_recipient_checks;
  guint        next_id;          /* 0: let the engine count; else ids "Q<n>" from here */
} PlTestSmtpWorld;

PlTestSmtpWorld    *pl_test_smtp_world_new        (void);
void                pl_test_smtp_world_free       (PlTestSmtpWorld          *world);
/* The config the tests start from: mail.b.example, AUTH offered, 250 ms delay, peer 127.0.0.1. */
PlSmtpServerConfig  pl_test_smtp_default_config   (void);
/* The callbacks of pl_test_smtp_server_new(), whose user data is the world. */
const PlSmtpServerCallbacks *pl_test_smtp_world_callbacks (void);
/* A server engine on @world (borrowed: it must outlive the engine); @config NULL for the default. */
PlEngine           *pl_test_smtp_server_new       (PlTestSmtpWorld          *world,
                                                   const PlSmtpServerConfig *config);
/* The @index-th delivered message as a string (messages in tests hold no NUL). */
char               *pl_test_smtp_delivered_text   (PlTestSmtpWorld          *world,
                                                   guint                     index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlTestSmtpWorld, pl_test_smtp_world_free)

G_END_DECLS
