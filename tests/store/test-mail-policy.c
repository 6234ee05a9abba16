/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlMailPolicy: which recipients a server of the world takes, and what it says when it will not. */
#include <string.h>

#include "pl-mail-policy.h"
#include "pl-memory-store.h"

/* The default world: mail.a.example sends (relays for its users), mail.b.example receives. */
typedef struct {
  PlWorld      *world;
  PlMailStore  *store;
  PlMailPolicy *policy;
} Server;

static Server *
server_new (const char *hostname)
{
  g_autoptr(GError) error = NULL;
  Server *server = g_new0 (Server, 1);
  const PlWorldServer *spec;
  const PlWorldDomain *domain;

  server->world = pl_world_new_default (&error);
  g_assert_no_error (error);
  spec = pl_world_lookup_server (server->world, hostname);
  g_assert_nonnull (spec);
  server->store = pl_memory_store_new ();
  domain = pl_world_lookup_domain (server->world, spec->domain);
  for (guint i = 0; i < domain->users->len; i++)
    {
      const PlWorldUser *user = g_ptr_array_index (domain->users, i);

      pl_memory_store_add_user (PL_MEMORY_STORE (server->store), user->name, user->password);
    }
  server->policy = pl_mail_policy_new (server->world, spec, server->store);
  return server;
}

static void
server_free (Server *server)
{
  pl_mail_policy_free (server->policy);
  g_object_unref (server->store);
  g_object_unref (server->world);
  g_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_free)

static const struct {
  const char *server;
  const char *address;
  gboolean    may_relay;
  guint       code;
  const char *text;
} recipients[] = {
  { "mail.b.example", "bob@b.example", FALSE, 250, "2.1.5 <bob@b.example>: recipient ok, for bob's mailbox" },
  /* RFC 5321 2.4: local parts may be matched without regard to case; domains always are. */
  { "mail.b.example", "Bob@B.Example", FALSE, 250, "2.1.5 <Bob@B.Example>: recipient ok, for bob's mailbox" },
  /* RFC 5321 4.5.1: postmaster, with or without a domain, reaches someone. */
  { "mail.b.example", "postmaster@b.example", FALSE, 250,
    "2.1.5 <postmaster@b.example>: recipient ok, for bob's mailbox" },
  { "mail.b.example", "PostMaster", FALSE, 250, "2.1.5 <PostMaster>: recipient ok, for bob's mailbox" },
  { "mail.b.example", "nobody@b.example", FALSE, 550,
    "5.1.1 <nobody@b.example>: unknown user: no mailbox here by that name" },
  { "mail.b.example", "@b.example", FALSE, 550, "5.1.1 <@b.example>: unknown user: no mailbox here by that name" },
  /* A receiving server relays for nobody, logged in or not (RFC 5321 3.6.2). */
  { "mail.b.example", "alice@a.example", TRUE, 550,
    "5.7.1 <alice@a.example>: relay access denied: mail.b.example takes mail for b.example only" },
  /* A sending server relays only for those who logged in or are trusted, and only where the world has a server. */
  { "mail.a.example", "bob@b.example", FALSE, 550,
    "5.7.1 <bob@b.example>: relay access denied: log in (AUTH) to send mail to other domains" },
  { "mail.a.example", "bob@b.example", TRUE, 250, "2.1.5 <bob@b.example>: recipient ok, will relay to mail.b.example" },
  { "mail.a.example", "carol@c.example", TRUE, 550, "5.1.2 <carol@c.example>: no mail server for c.example in this world" },
  { "mail.a.example", "alice@a.example", FALSE, 250, "2.1.5 <alice@a.example>: recipient ok, for alice's mailbox" },
};

static void
test_recipients (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (recipients); i++)
    {
      g_autoptr(Server) server = server_new (recipients[i].server);
      g_autofree char *text = NULL;
      guint code;

      g_test_message ("%s: %s", recipients[i].server, recipients[i].address);
      code = pl_mail_policy_check_recipient (server->policy, recipients[i].address, recipients[i].may_relay, &text);
      g_assert_cmpuint (code, ==, recipients[i].code);
      g_assert_cmpstr (text, ==, recipients[i].text);
    }
}

static void
test_password (void)
{
  g_autoptr(Server) server = server_new ("mail.a.example");

  /* RFC 4954 4: the user name with or without the server's own domain. */
  g_assert_true (pl_mail_policy_check_password (server->policy, "alice", "crepes"));
  g_assert_true (pl_mail_policy_check_password (server->policy, "alice@a.example", "crepes"));
  g_assert_true (pl_mail_policy_check_password (server->policy, "alice@A.EXAMPLE", "crepes"));
  g_assert_false (pl_mail_policy_check_password (server->policy, "alice", "wrong"));
  g_assert_false (pl_mail_policy_check_password (server->policy, "alice@b.example", "crepes"));
  g_assert_false (pl_mail_policy_check_password (server->policy, "bob", "hungry"));
}

static void
test_resolve (void)
{
  g_autoptr(Server) server = server_new ("mail.b.example");
  g_autofree char *exact = pl_mail_policy_resolve_user (server->policy, "bob");
  g_autofree char *upper = pl_mail_policy_resolve_user (server->policy, "BOB");
  g_autofree char *postmaster = pl_mail_policy_resolve_user (server->policy, "postmaster");
  g_autofree char *nobody = pl_mail_policy_resolve_user (server->policy, "nobody");
  g_autofree char *empty = pl_mail_policy_resolve_user (server->policy, "");
  g_autofree char *local = NULL;
  const char *domain = NULL;

  g_assert_cmpstr (exact, ==, "bob");
  g_assert_cmpstr (upper, ==, "bob");
  g_assert_cmpstr (postmaster, ==, "bob");
  g_assert_null (nobody);
  g_assert_null (empty);
  g_assert_true (pl_mail_policy_is_own_domain (server->policy, "B.example"));
  g_assert_true (pl_mail_policy_is_own_domain (server->policy, NULL));
  g_assert_false (pl_mail_policy_is_own_domain (server->policy, "a.example"));

  /* The last '@' splits: a quoted local part may hold one. */
  pl_mail_split_address ("\"a@b\"@b.example", &local, &domain);
  g_assert_cmpstr (local, ==, "\"a@b\"");
  g_assert_cmpstr (domain, ==, "b.example");
  g_clear_pointer (&local, g_free);
  pl_mail_split_address ("postmaster", &local, &domain);
  g_assert_cmpstr (local, ==, "postmaster");
  g_assert_null (domain);
}

/* A postmaster the store does not have reaches nobody (`serve` with a data folder that lost the user). */
static void
test_postmaster_missing (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlWorld) world = pl_world_new_default (&error);
  g_autoptr(PlMailStore) store = pl_memory_store_new ();
  g_autoptr(PlMailPolicy) policy = NULL;
  g_autofree char *user = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  policy = pl_mail_policy_new (world, pl_world_lookup_server (world, "mail.b.example"), store);
  user = pl_mail_policy_resolve_user (policy, "postmaster");
  g_assert_null (user);
  g_assert_cmpuint (pl_mail_policy_check_recipient (policy, "postmaster@b.example", FALSE, &text), ==, 550);
}

static void
test_sort (void)
{
  g_autoptr(Server) sending = server_new ("mail.a.example");
  g_autoptr(Server) receiving = server_new ("mail.b.example");
  const char *const mixed[] = { "alice@a.example", "bob@b.example", "ALICE@a.example", "postmaster@a.example",
                                "carol@b.example", NULL };
  const char *const gone[] = { "alice@a.example", "dave@a.example", NULL };
  const char *const onward[] = { "bob@b.example", "alice@a.example", NULL };
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) remote = g_ptr_array_new ();
  g_autofree char *text = NULL;

  /* Each store user once, whatever the spelling; the rest for the queue, as sent. */
  g_assert_cmpuint (pl_mail_policy_sort_recipients (sending->policy, mixed, users, remote, &text), ==, 0);
  g_assert_null (text);
  g_assert_cmpuint (users->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (users, 0), ==, "alice");
  g_assert_cmpuint (remote->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (remote, 0), ==, "bob@b.example");
  g_assert_cmpstr (g_ptr_array_index (remote, 1), ==, "carol@b.example");

  /* A mailbox that went away between RCPT and the end of the data: try again later (RFC 5321 4.2.2). */
  g_ptr_array_set_size (users, 0);
  g_ptr_array_set_size (remote, 0);
  g_assert_cmpuint (pl_mail_policy_sort_recipients (sending->policy, gone, users, remote, &text), ==, 451);
  g_assert_cmpstr (text, ==, "4.3.0 <dave@a.example>: the mailbox went away; try again later");
  g_clear_pointer (&text, g_free);

  /* A receiving server has no queue to put mail for others in. */
  g_ptr_array_set_size (users, 0);
  g_ptr_array_set_size (remote, 0);
  g_assert_cmpuint (pl_mail_policy_sort_recipients (receiving->policy, onward, users, remote, &text), ==, 451);
  g_assert_cmpstr (text, ==, "4.3.0 mail.b.example keeps no queue: cannot relay");
}

static void
test_complete (void)
{
  g_autoptr(Server) server = server_new ("mail.a.example");
  g_autoptr(GDateTime) now = g_date_time_new_utc (2025, 4, 14, 11, 30, 0);
  const char *bare = "Subject: hi\r\n\r\nbody\r\n";
  g_autoptr(GBytes) message = g_bytes_new_static (bare, strlen (bare));
  g_autoptr(GBytes) submitted = NULL;
  g_autoptr(GBytes) relayed = NULL;
  g_autofree char *added = NULL;
  g_autofree char *relay_added = NULL;
  g_autofree char *queued = pl_mail_policy_accepted_text ("A00001", TRUE);
  g_autofree char *delivered = pl_mail_policy_accepted_text ("B00007", FALSE);
  const char *expected = "Subject: hi\r\nDate: Mon, 14 Apr 2025 11:30:00 +0000\r\n"
                         "Message-ID: <A00001@mail.a.example>\r\n\r\nbody\r\n";

  /* RFC 6409 8.2, 8.3: a submission gets the Date: and Message-ID: it lacks. */
  submitted = pl_mail_policy_complete_message (server->policy, message, TRUE, now, "A00001", &added);
  g_assert_cmpmem (g_bytes_get_data (submitted, NULL), g_bytes_get_size (submitted), expected, strlen (expected));
  g_assert_cmpstr (added, ==, "Date, Message-ID");
  /* RFC 5321 6.4: relayed mail is passed on as it came. */
  relayed = pl_mail_policy_complete_message (server->policy, message, FALSE, now, "A00002", &relay_added);
  g_assert_true (g_bytes_equal (relayed, message));
  g_assert_null (relay_added);

  g_assert_cmpstr (queued, ==, "2.0.0 Ok: queued as A00001");
  g_assert_cmpstr (delivered, ==, "2.0.0 Ok: delivered as B00007");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/store/mail-policy/recipients", test_recipients);
  g_test_add_func ("/store/mail-policy/password", test_password);
  g_test_add_func ("/store/mail-policy/resolve", test_resolve);
  g_test_add_func ("/store/mail-policy/postmaster-missing", test_postmaster_missing);
  g_test_add_func ("/store/mail-policy/sort", test_sort);
  g_test_add_func ("/store/mail-policy/complete", test_complete);
  return g_test_run ();
}
