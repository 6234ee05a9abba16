/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlWorld: the default world, and world files that are wrong, each with its file and line. */
#include <string.h>

#include "pl-world.h"

static void
test_default_world (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlWorld) world = pl_world_new_default (&error);
  const PlWorldDomain *a, *b;
  const PlWorldServer *mail_a, *mail_b;
  const PlWorldUser *alice, *bob;
  const double *intervals;
  guint n;

  g_assert_no_error (error);
  g_assert_nonnull (world);
  g_assert_cmpstr (pl_world_get_source (world), ==, PL_WORLD_DEFAULT_SOURCE);
  g_assert_cmpuint (pl_world_get_n_domains (world), ==, 2);
  g_assert_cmpuint (pl_world_get_n_servers (world), ==, 2);

  a = pl_world_lookup_domain (world, "a.example");
  b = pl_world_lookup_domain (world, "B.Example");
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpstr (a->server, ==, "mail.a.example");
  g_assert_cmpstr (b->server, ==, "mail.b.example");
  g_assert_cmpstr (a->postmaster, ==, "alice");
  g_assert_cmpstr (b->postmaster, ==, "bob");

  mail_a = pl_world_lookup_server (world, "mail.a.example");
  mail_b = pl_world_lookup_server (world, "b.example");  /* by its domain */
  g_assert_nonnull (mail_a);
  g_assert_nonnull (mail_b);
  g_assert_cmpstr (mail_a->domain, ==, "a.example");
  g_assert_cmpstr (mail_b->hostname, ==, "mail.b.example");
  g_assert_cmpint (mail_a->role, ==, PL_ROLE_SENDING_SERVER);
  g_assert_cmpint (mail_b->role, ==, PL_ROLE_RECEIVING_SERVER);
  g_assert_true (pl_world_server_relays (mail_a));
  g_assert_false (pl_world_server_relays (mail_b));
  g_assert_cmpint (mail_a->smtp_port, ==, 2525);
  g_assert_cmpint (mail_a->pop3_port, ==, 1111);
  g_assert_cmpint (mail_b->smtp_port, ==, 2526);
  g_assert_cmpint (pl_world_server_get_port (mail_b, PL_PROTOCOL_POP3), ==, 1110);
  g_assert_cmpint (pl_world_server_get_port (mail_b, PL_PROTOCOL_IMAP), ==, -1);
  g_assert_cmpstr (mail_a->listen[0], ==, "127.0.0.1");
  g_assert_cmpstr (mail_a->listen[1], ==, "::1");
  g_assert_null (mail_a->listen[2]);
  g_assert_cmpuint (mail_a->max_message_size, ==, 10485760);

  alice = pl_world_lookup_user (world, "a.example", "alice");
  bob = pl_world_lookup_user (world, "b.example", "bob");
  g_assert_nonnull (alice);
  g_assert_nonnull (bob);
  g_assert_null (pl_world_lookup_user (world, "a.example", "bob"));
  g_assert_cmpstr (alice->password, ==, "crepes");
  g_assert_cmpstr (alice->address, ==, "alice@a.example");
  g_assert_cmpstr (alice->full_name, ==, "Alice");
  g_assert_null (alice->mailbox);
  g_assert_cmpstr (bob->password, ==, "hungry");
  g_assert_cmpstr (bob->mailbox, ==, "textbook");

  intervals = pl_world_get_retry_intervals (world, &n);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpfloat (intervals[0], ==, 60);
  g_assert_cmpfloat (intervals[3], ==, 3600);
  g_assert_cmpfloat (pl_world_get_connect_timeout (world), ==, 10);
  g_assert_cmpfloat (pl_world_get_reply_timeout (world), ==, 300);
}

static void
test_default_data_is_the_file (void)
{
  g_autoptr(GBytes) built_in = pl_world_get_default_data ();
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "world.ini", NULL);
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (g_bytes_get_data (built_in, NULL), g_bytes_get_size (built_in), contents, len);
}

static void
test_trust (void)
{
  g_autoptr(PlWorld) world = pl_world_new_default (NULL);
  const PlWorldServer *mail_a = pl_world_lookup_server (world, "a.example");
  static const struct {
    const char *address;
    gboolean    trusted;
  } cases[] = {
    { "127.0.0.1", TRUE },
    { "127.8.9.10", TRUE },
    { "::1", TRUE },
    { "192.0.2.10", FALSE },
    { "::2", FALSE },
    { "10.0.0.1", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (cases[i].address);

      g_test_message ("%s", cases[i].address);
      g_assert_cmpint (pl_world_server_trusts (mail_a, inet), ==, cases[i].trusted);
    }
}

static const char minimal_world[] =
  "[domain a.example]\n"
  "server = mail.a.example\n"
  "[server mail.a.example]\n"
  "role = sending\n"
  "listen = 0.0.0.0\n"
  "smtp-port = 0\n"
  "trusted-networks = 192.0.2.7\n";

static void
test_minimal_world (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlWorld) world = pl_world_new_from_data (minimal_world, -1, "mini.ini", &error);
  const PlWorldServer *server;
  g_autofree char *connect = NULL;
  g_autoptr(GInetAddress) listed = g_inet_address_new_from_string ("192.0.2.7");
  g_autoptr(GInetAddress) other = g_inet_address_new_from_string ("192.0.2.8");
  guint n;

  g_assert_no_error (error);
  server = pl_world_get_server (world, 0);
  g_assert_cmpint (server->smtp_port, ==, 0);
  g_assert_cmpint (server->pop3_port, ==, -1);
  connect = pl_world_server_dup_connect_address (server);
  g_assert_cmpstr (connect, ==, "127.0.0.1");
  g_assert_true (pl_world_server_trusts (server, listed));
  g_assert_false (pl_world_server_trusts (server, other));
  /* Without a [queue] group, the defaults. */
  g_assert_cmpfloat (pl_world_get_retry_intervals (world, &n)[0], ==, 60);
  g_assert_cmpuint (n, ==, 4);
  g_assert_null (pl_world_get_domain (world, 0)->postmaster);
}

static void
test_set_port (void)
{
  g_autoptr(PlWorld) world = pl_world_new_default (NULL);
  g_autoptr(GError) error = NULL;
  const PlWorldServer *mail_b = pl_world_lookup_server (world, "mail.b.example");

  g_assert_true (pl_world_set_port (world, "b.example", PL_PROTOCOL_SMTP, 40000, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mail_b->smtp_port, ==, 40000);
  g_assert_true (pl_world_set_port (world, "mail.b.example", PL_PROTOCOL_POP3, 0, &error));
  g_assert_cmpint (mail_b->pop3_port, ==, 0);

  g_assert_false (pl_world_set_port (world, "c.example", PL_PROTOCOL_SMTP, 1, &error));
  g_assert_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (pl_world_set_port (world, "a.example", PL_PROTOCOL_IMAP, 1, &error));
  g_assert_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (pl_world_set_port (world, "a.example", PL_PROTOCOL_SMTP, 65536, &error));
  g_assert_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID);
}

static void
test_set_intervals_and_listen (void)
{
  g_autoptr(PlWorld) world = pl_world_new_default (NULL);
  g_autoptr(GError) error = NULL;
  const double shorter[] = { 0.2, 0.5 };
  const double bad[] = { 1, 0 };
  const char *const listen[] = { "127.0.0.1", NULL };
  const char *const wrong[] = { "localhost", NULL };
  guint n;

  g_assert_true (pl_world_set_retry_intervals (world, shorter, 2, &error));
  g_assert_cmpfloat (pl_world_get_retry_intervals (world, &n)[1], ==, 0.5);
  g_assert_cmpuint (n, ==, 2);
  g_assert_false (pl_world_set_retry_intervals (world, bad, 2, &error));
  g_assert_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pl_world_set_retry_intervals (world, shorter, 0, &error));
  g_clear_error (&error);

  g_assert_true (pl_world_set_listen (world, listen, &error));
  g_assert_cmpstr (pl_world_get_server (world, 1)->listen[0], ==, "127.0.0.1");
  g_assert_null (pl_world_get_server (world, 1)->listen[1]);
  g_assert_false (pl_world_set_listen (world, wrong, &error));
  g_assert_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID);
}

/* The tail every bad world below shares: a valid server for a.example. */
#define SERVER_A "[server mail.a.example]\nsmtp-port = 2525\n"

static const struct {
  const char   *name;
  const char   *text;
  PlWorldError  code;
  const char   *message;  /* what the error message must hold, "bad.ini:LINE: ..." */
} bad_worlds[] = {
  { "not-key-value", "[domain a.example]\nserver = mail.a.example\nthis is no pair\n" SERVER_A,
    PL_WORLD_ERROR_SYNTAX, "bad.ini:3: \"this is no pair\" is not a group" },
  { "key-before-group", "\n# a comment\nserver = x\n",
    PL_WORLD_ERROR_SYNTAX, "bad.ini:3: \"server\" comes before any group" },
  { "broken-group", "[domain a.example\nserver = mail.a.example\n",
    PL_WORLD_ERROR_SYNTAX, "bad.ini:1: \"[domain a.example\" is not a group header" },
  { "unknown-key", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "smtp_port = 25\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: unknown key smtp_port in [server mail.a.example]" },
  { "unknown-group", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[relay]\nx = 1\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: unknown group [relay]" },
  { "port-out-of-range", "[domain a.example]\nserver = mail.a.example\n[server mail.a.example]\nsmtp-port = 70000\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:4: smtp-port = 70000 is not a port (0-65535)" },
  { "port-not-a-number", "[domain a.example]\nserver = mail.a.example\n[server mail.a.example]\npop3-port = eleven\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:4: pop3-port = eleven is not a port" },
  { "user-without-password", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "\n[user alice@a.example]\nname = Alice\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:6: [user alice@a.example] has no password" },
  { "empty-password", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[user alice@a.example]\npassword =\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:6: the password of alice@a.example is empty" },
  { "domain-without-server-key", "[domain a.example]\npostmaster = alice\n" SERVER_A,
    PL_WORLD_ERROR_INVALID, "bad.ini:1: [domain a.example] names no server" },
  { "domain-without-server-group", "[domain a.example]\nserver = mail.a.example\n[domain c.example]\nserver = mail.c.example\n" SERVER_A,
    PL_WORLD_ERROR_INVALID, "bad.ini:4: domain c.example names server mail.c.example, but there is no [server mail.c.example]" },
  { "server-without-domain", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[server mx.z.example]\nsmtp-port = 25\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: server mx.z.example serves no domain" },
  { "server-of-two-domains", "[domain a.example]\nserver = mail.a.example\n[domain c.example]\nserver = mail.a.example\n" SERVER_A,
    PL_WORLD_ERROR_INVALID, "bad.ini:4: server mail.a.example is already the server of a.example" },
  { "user-of-unknown-domain", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[user carol@c.example]\npassword = x\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: [user carol@c.example]: there is no [domain c.example]" },
  { "user-bad-name", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[user ../etc@a.example]\npassword = x\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: [user ../etc@a.example]: \"../etc\" cannot be a user name" },
  { "user-no-at", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[user alice]\npassword = x\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: [user alice]: a user is named by the address" },
  { "group-twice", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[domain a.example]\npostmaster = x\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: [domain a.example] is given twice (first on line 1)" },
  { "key-twice", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "smtp-port = 2526\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: smtp-port is given twice in [server mail.a.example] (first on line 4)" },
  { "bad-role", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "role = relay\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: role = relay: a server's role is sending or receiving" },
  { "bad-listen", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "listen = localhost\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: listen: localhost is not an IP address" },
  { "bad-network", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "trusted-networks = 127.0.0.0/33\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: trusted-networks: 127.0.0.0/33 is not a network" },
  { "serves-nothing", "[domain a.example]\nserver = mail.a.example\n[server mail.a.example]\nrole = receiving\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:3: [server mail.a.example] serves nothing" },
  { "sending-without-smtp", "[domain a.example]\nserver = mail.a.example\n[server mail.a.example]\nrole = sending\npop3-port = 1\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:3: [server mail.a.example] is a sending server without SMTP" },
  { "same-port-twice", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "pop3-port = 2525\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: pop3-port = 2525: port 2525 is already mail.a.example's SMTP port" },
  { "bad-interval", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[queue]\nretry-intervals = 60;0\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:6: retry-intervals: 0 is not a number of seconds above 0" },
  { "empty-intervals", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[queue]\nretry-intervals =\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:6: retry-intervals is empty" },
  { "bad-timeout", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[queue]\nconnect-timeout = soon\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:6: connect-timeout = soon is not a number of seconds" },
  { "bad-mailbox", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[user alice@a.example]\npassword = x\nmailbox = full\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:7: mailbox = full: a new mailbox is textbook" },
  { "unknown-postmaster", "[domain a.example]\nserver = mail.a.example\npostmaster = carol\n" SERVER_A,
    PL_WORLD_ERROR_INVALID, "bad.ini:3: postmaster = carol, but there is no [user carol@a.example]" },
  { "bad-domain-name", "[domain a..example]\nserver = mail.a.example\n" SERVER_A,
    PL_WORLD_ERROR_INVALID, "bad.ini:1: [domain a..example]: \"a..example\" is not a domain name" },
  { "no-domain", "[queue]\nretry-intervals = 1\n",
    PL_WORLD_ERROR_INVALID, "bad.ini: the world has no domain" },
  { "bad-escape", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "[user alice@a.example]\npassword = a\\qb\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:6: password: " },
  { "small-max-size", "[domain a.example]\nserver = mail.a.example\n" SERVER_A "max-message-size = 10\n",
    PL_WORLD_ERROR_INVALID, "bad.ini:5: max-message-size = 10 is not a size in octets" },
};

static void
test_bad_world (gconstpointer data)
{
  gsize i = GPOINTER_TO_SIZE (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlWorld) world = pl_world_new_from_data (bad_worlds[i].text, -1, "bad.ini", &error);

  g_assert_null (world);
  g_assert_error (error, PL_WORLD_ERROR, (gint) bad_worlds[i].code);
  g_test_message ("%s", error->message);
  if (strstr (error->message, bad_worlds[i].message) == NULL)
    g_error ("error message \"%s\" lacks \"%s\"", error->message, bad_worlds[i].message);
  g_assert_true (g_str_has_prefix (error->message, "bad.ini"));
}

static void
test_not_text (void)
{
  static const char with_nul[] = "[domain a.example]\0server = x\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(PlWorld) world = pl_world_new_from_data (with_nul, sizeof with_nul - 1, "nul.ini", &error);

  g_assert_null (world);
  g_assert_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_SYNTAX);
  g_clear_error (&error);
  world = pl_world_new_from_data ("[domain \xff]\n", -1, "latin1.ini", &error);
  g_assert_null (world);
  g_assert_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_SYNTAX);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/world/default", test_default_world);
  g_test_add_func ("/world/default-data-is-the-file", test_default_data_is_the_file);
  g_test_add_func ("/world/trust", test_trust);
  g_test_add_func ("/world/minimal", test_minimal_world);
  g_test_add_func ("/world/set-port", test_set_port);
  g_test_add_func ("/world/set-intervals-and-listen", test_set_intervals_and_listen);
  g_test_add_func ("/world/not-text", test_not_text);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_worlds); i++)
    {
      g_autofree char *path = g_strdup_printf ("/world/bad/%s", bad_worlds[i].name);

      g_test_add_data_func (path, GSIZE_TO_POINTER (i), test_bad_world);
    }
  return g_test_run ();
}
