/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the scenario format: times, rates, the shipped scenarios, and a table of mistakes. */

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "pl-sim-error.h"
#include "pl-sim-scenario.h"

/* Times and rates ------------------------------------------------------------------------- */

typedef struct {
  const char *text;
  gboolean    ok;
  PlSimTime   ns;
} TimeCase;

static const TimeCase time_cases[] = {
  { "0",            TRUE,  0 },
  { "0s",           TRUE,  0 },
  { "1.5s",         TRUE,  1500000000 },
  { "1.5",          TRUE,  1500000000 },
  { "250ms",        TRUE,  250000000 },
  { "20us",         TRUE,  20000 },
  { "3ns",          TRUE,  3 },
  { "2min",         TRUE,  120000000000 },
  { "0.000000001",  TRUE,  1 },
  { "0.5ms",        TRUE,  500000 },
  { "1000000",      TRUE,  G_GUINT64_CONSTANT (1000000000000000) },
  { "1000001",      FALSE, 0 },   /* over 10^6 s */
  { "0.0000000001", FALSE, 0 },   /* finer than a nanosecond */
  { "1.5ns",        FALSE, 0 },
  { "-1",           FALSE, 0 },
  { "+1",           FALSE, 0 },
  { "1e3",          FALSE, 0 },
  { "",             FALSE, 0 },
  { "1.",           FALSE, 0 },
  { ".5",           FALSE, 0 },
  { "1.5.5",        FALSE, 0 },
  { "1h",           FALSE, 0 },
  { "soon",         FALSE, 0 },
  { "5 s",          FALSE, 0 },
  { "99999999999999999999", FALSE, 0 },
};

static void
test_parse_time (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (time_cases); i++)
    {
      const TimeCase *c = &time_cases[i];
      PlSimTime ns = 12345;
      gboolean ok = pl_sim_parse_time (c->text, &ns);

      g_test_message ("time '%s'", c->text);
      g_assert_cmpint (ok, ==, c->ok);
      if (c->ok)
        g_assert_cmpuint (ns, ==, c->ns);
    }
}

typedef struct {
  const char *text;
  gboolean    ok;
  guint64     bits;
} RateCase;

static const RateCase rate_cases[] = {
  { "10Mbit/s",   TRUE,  10000000 },
  { "10mbps",     TRUE,  10000000 },
  { "10Mbit",     TRUE,  10000000 },
  { "56kbit/s",   TRUE,  56000 },
  { "1Gbit/s",    TRUE,  1000000000 },
  { "1.5Mbit/s",  TRUE,  1500000 },
  { "56000",      TRUE,  56000 },
  { "300bit/s",   TRUE,  300 },
  { "unlimited",  TRUE,  0 },
  { "0",          FALSE, 0 },
  { "0.1bit/s",   FALSE, 0 },
  { "fast",       FALSE, 0 },
  { "10MB/s",     FALSE, 0 },
  { "10Mbyte",    FALSE, 0 },
  { "-10Mbit/s",  FALSE, 0 },
  { "2000Gbit/s", FALSE, 0 },
};

static void
test_parse_bandwidth (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rate_cases); i++)
    {
      const RateCase *c = &rate_cases[i];
      guint64 bits = 12345;
      gboolean ok = pl_sim_parse_bandwidth (c->text, &bits);

      g_test_message ("rate '%s'", c->text);
      g_assert_cmpint (ok, ==, c->ok);
      if (c->ok)
        g_assert_cmpuint (bits, ==, c->bits);
    }
}

/* The shipped scenarios -------------------------------------------------------------------- */

static PlSimScenario *
builtin (const char *name)
{
  g_autoptr(GBytes) bytes = pl_sim_scenario_get_builtin (name);
  g_autoptr(GError) error = NULL;
  PlSimScenario *scenario;

  g_assert_nonnull (bytes);
  scenario = pl_sim_scenario_new_from_data (g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
                                            name, NULL, NULL, &error);
  g_assert_no_error (error);
  return scenario;
}

static void
test_textbook (void)
{
  g_autoptr(PlSimScenario) scenario = builtin ("textbook");
  g_autoptr(PlSimScenario) by_default = NULL;
  g_autoptr(GError) error = NULL;
  const PlSimDevice *bob;
  const PlSimMailboxSpec *mailbox;
  const PlSimAction *send;
  const PlSimAction *pull;
  const PlSimLinkSpec *link;
  const char *const script[] = { "user bob", "pass hungry", "list", "retr 1", "dele 1", "retr 2", "dele 2", "quit", NULL };
  g_autofree char *message = NULL;

  /* The default is the textbook's. */
  by_default = pl_sim_scenario_new_default (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_sim_scenario_get_n_actions (by_default), ==, 2);

  g_assert_cmpuint (pl_sim_scenario_get_n_devices (scenario), ==, 2);
  g_assert_nonnull (pl_sim_scenario_lookup_device (scenario, "alice"));
  bob = pl_sim_scenario_lookup_device (scenario, "bob-pc");
  g_assert_nonnull (bob);
  g_assert_cmpstr (bob->user, ==, "bob@b.example");
  g_assert_cmpint (bob->protocol, ==, PL_PROTOCOL_POP3);
  g_assert_true (bob->pop3_delete);
  g_assert_cmpstrv (bob->options, ((const char *const[]) { "delete", NULL }));

  /* Hosts: the two servers, then the devices, each with its documentation address. */
  g_assert_cmpuint (pl_sim_scenario_get_n_hosts (scenario), ==, 4);
  g_assert_cmpstr (pl_sim_scenario_get_host (scenario, 0)->name, ==, "mail.a.example");
  g_assert_cmphex (pl_sim_scenario_get_host (scenario, 0)->address, ==, 0xc0000219);   /* 192.0.2.25 */
  g_assert_cmpint (pl_sim_scenario_get_host (scenario, 0)->role, ==, PL_ROLE_SENDING_SERVER);
  g_assert_cmpstr (pl_sim_scenario_get_host (scenario, 1)->name, ==, "mail.b.example");
  g_assert_cmphex (pl_sim_scenario_get_host (scenario, 1)->address, ==, 0xc6336419);   /* 198.51.100.25 */
  g_assert_cmpint (pl_sim_scenario_get_host (scenario, 1)->role, ==, PL_ROLE_RECEIVING_SERVER);
  g_assert_cmpstr (pl_sim_scenario_get_host (scenario, 2)->name, ==, "alice");
  g_assert_cmphex (pl_sim_scenario_get_host (scenario, 2)->address, ==, 0xc000020a);   /* 192.0.2.10 */
  g_assert_cmpint (pl_sim_scenario_get_host (scenario, 2)->role, ==, PL_ROLE_USER_AGENT);
  g_assert_cmpstr (pl_sim_scenario_get_host (scenario, 3)->owner, ==, "bob@b.example");
  g_assert_cmphex (pl_sim_scenario_get_host (scenario, 3)->address, ==, 0xc633640a);   /* 198.51.100.10 */
  g_assert_true (pl_sim_scenario_lookup_host (scenario, "MAIL.B.EXAMPLE") == pl_sim_scenario_get_host (scenario, 1));

  link = pl_sim_scenario_get_link (scenario, "mail.b.example", "mail.a.example");
  g_assert_cmpuint (link->latency, ==, 20 * PL_SIM_NS_PER_MS);
  g_assert_cmpuint (link->bandwidth, ==, 10000000);
  link = pl_sim_scenario_get_link (scenario, "alice", "mail.a.example");
  g_assert_null (link->a);
  g_assert_cmpuint (link->latency, ==, 2 * PL_SIM_NS_PER_MS);
  g_assert_cmpuint (link->bandwidth, ==, 100000000);

  mailbox = pl_sim_scenario_get_mailbox (scenario, "bob@b.example");
  g_assert_nonnull (mailbox);
  g_assert_cmpuint (mailbox->messages->len, ==, 1);
  g_assert_cmpuint (g_bytes_get_size (g_ptr_array_index (mailbox->messages, 0)), ==, 498);
  g_assert_null (pl_sim_scenario_get_mailbox (scenario, "alice@a.example"));

  g_assert_cmpuint (pl_sim_scenario_get_n_actions (scenario), ==, 2);
  send = pl_sim_scenario_get_action (scenario, 0);
  g_assert_cmpint (send->kind, ==, PL_SIM_ACTION_SEND);
  g_assert_cmpuint (send->at, ==, 0);
  g_assert_cmpstr (send->device, ==, "alice");
  g_assert_cmpstrv (send->recipients, ((const char *const[]) { "bob@b.example", NULL }));
  message = g_strndup (g_bytes_get_data (send->message, NULL), g_bytes_get_size (send->message));
  g_assert_true (g_str_has_prefix (message, "Date: Mon, 14 Apr 2025 11:29:45 +0000\r\nFrom: Alice <alice@a.example>\r\n"));
  g_assert_true (g_str_has_suffix (message, "\r\nAlice\r\n"));
  /* "..." in the file is ".." in the message: the block is dot-stuffed as SMTP's DATA is. */
  g_assert_nonnull (strstr (message, "\r\n.. and that line starts with a dot"));
  g_assert_null (strstr (message, "\r\n..."));

  pull = pl_sim_scenario_get_action (scenario, 1);
  g_assert_cmpint (pull->kind, ==, PL_SIM_ACTION_PULL);
  g_assert_cmpuint (pull->at, ==, 500 * PL_SIM_NS_PER_MS);
  g_assert_cmpstrv (pull->script, script);
  g_assert_cmpuint (pl_sim_scenario_get_mss (scenario), ==, PL_SIM_DEFAULT_MSS);
  g_assert_cmpint (pl_sim_scenario_get_epoch (scenario), ==, PL_SIM_DEFAULT_EPOCH);
}

static void
test_two_devices (void)
{
  g_autoptr(PlSimScenario) scenario = builtin ("two-devices");
  const PlSimDevice *laptop = pl_sim_scenario_lookup_device (scenario, "bob-laptop");
  const PlSimDevice *phone = pl_sim_scenario_lookup_device (scenario, "bob-phone");
  const PlSimAction *send;
  g_autofree char *message = NULL;

  g_assert_true (laptop->pop3_delete);
  g_assert_false (phone->pop3_delete);
  g_assert_cmpstr (laptop->user, ==, phone->user);
  g_assert_cmphex (pl_sim_scenario_lookup_host (scenario, "bob-phone")->address, ==, 0xc633640b);
  g_assert_cmpuint (pl_sim_scenario_get_mailbox (scenario, "bob@b.example")->messages->len, ==, 2);
  g_assert_cmpuint (pl_sim_scenario_get_link (scenario, "bob-phone", "mail.b.example")->latency, ==,
                    40 * PL_SIM_NS_PER_MS);

  /* subject and body: the user agent writes From, To, Subject; the server adds Date and Message-ID. */
  send = pl_sim_scenario_get_action (scenario, 0);
  message = g_strndup (g_bytes_get_data (send->message, NULL), g_bytes_get_size (send->message));
  g_assert_cmpstr (message, ==,
                   "From: Alice <alice@a.example>\r\nTo: bob@b.example\r\nSubject: Are you coming?\r\n\r\n"
                   "The table is booked for 12:00.\r\nAlice\r\n");
  g_assert_cmpuint (pl_sim_scenario_get_action (scenario, 1)->at, ==, PL_SIM_NS_PER_S);
  g_assert_cmpstr (pl_sim_scenario_get_action (scenario, 2)->device, ==, "bob-phone");
}

/* Actions come in time order whatever the file's order; equal times keep the file's. */
static void
test_action_order (void)
{
  const char *text =
    "device alice user alice@a.example\n"
    "device bob user bob@b.example pull pop3 keep\n"
    "link default latency 0 bandwidth unlimited\n"
    "start 2030-01-02T03:04:05Z\n"
    "seed 77\n"
    "mss 536\n"
    "dns delay 1ms\n"
    "at 2s pull bob\n"
    "at 1s send alice to bob@b.example,alice@a.example subject \"Hi \\\"there\\\"\" body \"a\\nb\"\n"
    "at 2s send alice to bob@b.example textbook 2\n"
    "at 1500ms pull bob\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSimScenario) scenario = pl_sim_scenario_new_from_data (text, -1, "order", NULL, NULL, &error);
  g_autofree char *message = NULL;
  GBytes *bytes;

  g_assert_no_error (error);
  g_assert_cmpuint (pl_sim_scenario_get_n_actions (scenario), ==, 4);
  g_assert_cmpuint (pl_sim_scenario_get_action (scenario, 0)->line, ==, 9);
  g_assert_cmpuint (pl_sim_scenario_get_action (scenario, 1)->line, ==, 11);
  g_assert_cmpuint (pl_sim_scenario_get_action (scenario, 2)->line, ==, 8);
  g_assert_cmpuint (pl_sim_scenario_get_action (scenario, 3)->line, ==, 10);
  g_assert_cmpstrv (pl_sim_scenario_get_action (scenario, 0)->recipients,
                    ((const char *const[]) { "bob@b.example", "alice@a.example", NULL }));
  bytes = pl_sim_scenario_get_action (scenario, 0)->message;
  message = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_nonnull (strstr (message, "Subject: Hi \"there\"\r\n\r\na\r\nb\r\n"));
  g_assert_cmpuint (g_bytes_get_size (pl_sim_scenario_get_action (scenario, 3)->message), ==, 912);
  g_assert_false (pl_sim_scenario_lookup_device (scenario, "bob")->pop3_delete);
  g_assert_cmpint (pl_sim_scenario_get_epoch (scenario), ==, 1893553445);
  g_assert_cmpuint (pl_sim_scenario_get_seed (scenario), ==, 77);
  g_assert_cmpuint (pl_sim_scenario_get_mss (scenario), ==, 536);
  g_assert_cmpuint (pl_sim_scenario_get_dns_delay (scenario), ==, PL_SIM_NS_PER_MS);
  g_assert_cmpuint (pl_sim_scenario_get_link (scenario, "alice", "mail.a.example")->bandwidth, ==, 0);
}

/* A scenario naming its own world, read relative to the scenario's folder. */
static void
test_world_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-sim-world-XXXXXX", NULL);
  g_autofree char *world_path = g_build_filename (dir, "small.ini", NULL);
  g_autofree char *scenario_path = g_build_filename (dir, "lesson.scenario", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSimScenario) scenario = NULL;
  const char *world =
    "[domain c.example]\nserver = mx.c.example\n\n"
    "[server mx.c.example]\nrole = receiving\nsmtp-port = 25\npop3-port = 110\n\n"
    "[user carol@c.example]\npassword = secret\n";
  const char *text = "world small.ini\ndevice carol-pc user carol@c.example pull pop3\nat 0 pull carol-pc\n";

  g_assert_true (g_file_set_contents (world_path, world, -1, NULL));
  g_assert_true (g_file_set_contents (scenario_path, text, -1, NULL));
  scenario = pl_sim_scenario_new_from_file (scenario_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_sim_scenario_get_n_hosts (scenario), ==, 2);
  g_assert_cmpstr (pl_sim_scenario_get_host (scenario, 0)->name, ==, "mx.c.example");
  g_assert_cmphex (pl_sim_scenario_get_host (scenario, 0)->address, ==, 0xc0000219);
  g_assert_true (g_str_has_suffix (pl_world_get_source (pl_sim_scenario_get_world (scenario)), "small.ini"));

  g_unlink (world_path);
  g_unlink (scenario_path);
  g_rmdir (dir);
}

/* Mistakes --------------------------------------------------------------------------------- */

typedef struct {
  const char *text;
  guint       line;       /* 0: the file as a whole */
  const char *message;    /* a part of what the error says */
} BadCase;

#define ALICE "device alice user alice@a.example\n"

static const BadCase bad_cases[] = {
  { "frobnicate\n", 1, "unknown statement 'frobnicate'" },
  { "\n\n  # comment\nlink default latency 1ms\nhop\n", 5, "unknown statement 'hop'" },
  /* bad times */
  { ALICE "at soon send alice to bob@b.example textbook 1\n", 2, "bad time 'soon'" },
  { ALICE "at -1s send alice to bob@b.example textbook 1\n", 2, "bad time '-1s'" },
  { ALICE "at 1.5x send alice to bob@b.example textbook 1\n", 2, "bad time '1.5x'" },
  { ALICE "at 1e3 send alice to bob@b.example textbook 1\n", 2, "bad time '1e3'" },
  { "link default latency fast\n", 1, "bad time 'fast'" },
  { "dns delay forever\n", 1, "bad time 'forever'" },
  { "start tomorrow\n", 1, "bad start time 'tomorrow'" },
  /* unknown hosts */
  { "at 0 send carol to bob@b.example textbook 1\n", 1, "unknown host 'carol'" },
  { ALICE "\nat 0 pull bob-pc\n", 3, "unknown host 'bob-pc'" },
  { "link alice mail.b.example latency 1ms\n", 1, "unknown host 'alice'" },
  { ALICE "link alice mail.c.example\n", 2, "unknown host 'mail.c.example'" },
  { "at 0 send mail.a.example to bob@b.example textbook 1\n", 1, "mail.a.example is a server" },
  /* unknown protocols and options */
  { "device bob-pc user bob@b.example pull gopher\n", 1, "unknown protocol 'gopher'" },
  { "device bob-pc user bob@b.example pull imap\n", 1, "protocol 'imap' is not simulated yet" },
  { "device bob-pc user bob@b.example pull pop3 sometimes\n", 1, "unknown pop3 option 'sometimes'" },
  { "device bob-pc user bob@b.example colour blue\n", 1, "unknown device setting 'colour'" },
  /* users and devices */
  { "device x user nobody@b.example\n", 1, "unknown user 'nobody@b.example'" },
  { "device x user bob\n", 1, "'bob' is not a mail address" },
  { "device x\n", 1, "needs 'user ADDRESS'" },
  { "device x user bob@b.example\n\ndevice x user bob@b.example\n", 3, "declared twice (first at line 1)" },
  { "device mail.a.example user alice@a.example\n", 1, "has the name of a server" },
  { "device a/b user alice@a.example\n", 1, "bad device name 'a/b'" },
  { "device a user alice@a.example address 10.0.0.300\n", 1, "bad address '10.0.0.300'" },
  { "device a user alice@a.example address 2001:db8::1\n", 1, "the simulator uses IPv4" },
  { "device a user alice@a.example address 192.0.2.25\n", 1, "address 192.0.2.25 is another host's" },
  { "device a user alice@a.example address 127.0.0.1\n", 1, "cannot be a host's" },
  { ALICE "at 0 pull alice\n", 2, "does not pull mail" },
  /* sends */
  { ALICE "at 0 send alice to bob textbook 1\n", 2, "'bob' is not a mail address" },
  { ALICE "at 0 send alice to <bob@b.example> textbook 1\n", 2, "is not a mail address" },
  { ALICE "at 0 send alice textbook 1\n", 2, "send needs 'to ADDRESS'" },
  { ALICE "at 0 send alice to bob@b.example message nope\n", 2, "unknown message 'nope'" },
  { ALICE "at 0 send alice to bob@b.example textbook\n", 2, "'textbook 1' or 'textbook 2'" },
  { ALICE "at 0 send alice to bob@b.example textbook 3\n", 2, "the textbook has messages 1 and 2, not '3'" },
  { ALICE "at 0 send alice to bob@b.example textbook 1 subject hi\n", 2, "not both" },
  { ALICE "at 0 send alice to bob@b.example subject\n", 2, "'subject' needs a value" },
  { ALICE "at 0 send\n", 2, "expected: at TIME send" },
  { ALICE "at 0 fly alice to bob@b.example\n", 2, "unknown action 'fly'" },
  { "device b user bob@b.example pull pop3\nat 0 pull b script\n", 2, "'script' needs the command lines" },
  { "device b user bob@b.example pull pop3\nat 0 pull b twice\n", 2, "unknown pull setting 'twice'" },
  { "device b user bob@b.example pull pop3\nat 0 pull b script \"user bob\" \"\"\n", 2, "a script line is empty" },
  /* quoting */
  { "device b user bob@b.example pull pop3\nat 0 pull b script \"user bob\n", 2, "quoted word is not closed" },
  { "device b user bob@b.example pull pop3\nat 0 pull b script \"a\\qb\"\n", 2, "unknown escape '\\q'" },
  { "device b user bob@b.example pull pop3\nat 0 pull b script \"a\"b\n", 2, "followed by a blank" },
  /* mailboxes and messages */
  { "mailbox bob@b.example textbook 3\n", 1, "the textbook has messages 1 and 2, not '3'" },
  { "mailbox nobody@b.example textbook\n", 1, "unknown user 'nobody@b.example'" },
  { "mailbox bob@b.example empty textbook 1\n", 1, "'empty' or holds messages, not both" },
  { "mailbox bob@b.example lots\n", 1, "expected a message" },
  { "mailbox bob@b.example empty\nmailbox bob@b.example textbook\n", 2, "given twice (first at line 1)" },
  { "link default\nmessage m\nFrom: a\n\nhello\n", 2, "message m has no end" },
  { "message m\n.\nmessage m\n.\n", 3, "message m is defined twice" },
  { "message\n.\n", 1, "expected: message NAME" },
  { "mailbox bob@b.example message m\n", 1, "unknown message 'm'" },
  /* settings */
  { "mss 10\n", 1, "bad mss '10'" },
  { "mss 9000\n", 1, "bad mss '9000'" },
  { "seed x\n", 1, "bad seed 'x'" },
  { "seed 1\nseed 2\n", 2, "'seed' is given twice" },
  { "link default bandwidth 10Mbyte\n", 1, "bad bandwidth '10Mbyte'" },
  { "link default latency\n", 1, "'latency' needs a value" },
  { "link default colour red\n", 1, "unknown link setting 'colour'" },
  { "link mail.a.example mail.a.example\n", 1, "not mail.a.example to itself" },
  { "link mail.a.example mail.b.example\nlink mail.b.example mail.a.example\n", 2, "given twice (first at line 1)" },
  { "world\n", 1, "expected: world FILE" },
  { "world no-such-world.ini\n", 1, "cannot read the world file" },
  { "dns\n", 1, "expected: dns delay TIME" },
  /* the file as a whole */
  { "at 0\xff pull\n", 0, "UTF-8" },
};

static void
test_bad_scenarios (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *c = &bad_cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(PlSimScenario) scenario = NULL;
      g_autofree char *prefix = NULL;
      g_autofree char *shown = g_strescape (c->text, NULL);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, shown);
      scenario = pl_sim_scenario_new_from_data (c->text, -1, "lesson.scenario", NULL, NULL, &error);
      g_assert_null (scenario);
      g_assert_error (error, PL_SIM_ERROR, PL_SIM_ERROR_SCENARIO);
      /* "FILE:LINE: what is wrong", so an editor can jump there. */
      prefix = c->line > 0 ? g_strdup_printf ("lesson.scenario:%u: ", c->line) : g_strdup ("lesson.scenario: ");
      if (!g_str_has_prefix (error->message, prefix) || strstr (error->message, c->message) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": expected \"%s...%s...\", got \"%s\"", i, prefix, c->message,
                 error->message);
    }
}

static void
test_nul_byte (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSimScenario) scenario = pl_sim_scenario_new_from_data ("mss 536\n\0x", 10, "nul", NULL, NULL, &error);

  g_assert_null (scenario);
  g_assert_error (error, PL_SIM_ERROR, PL_SIM_ERROR_SCENARIO);
  g_assert_nonnull (strstr (error->message, "NUL"));
}

/* A world file with a mistake: the error names the scenario's line and the world's own file and line. */
static void
test_bad_world_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-sim-world-XXXXXX", NULL);
  g_autofree char *world_path = g_build_filename (dir, "broken.ini", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSimScenario) scenario = NULL;

  g_assert_true (g_file_set_contents (world_path, "[domain x.example]\nserver = mx.x.example\ncolour = red\n", -1, NULL));
  scenario = pl_sim_scenario_new_from_data ("# a lesson\nworld broken.ini\n", -1, "lesson.scenario", dir, NULL, &error);
  g_assert_null (scenario);
  g_assert_error (error, PL_SIM_ERROR, PL_SIM_ERROR_SCENARIO);
  g_assert_true (g_str_has_prefix (error->message, "lesson.scenario:2: the world file is wrong: "));
  g_assert_nonnull (strstr (error->message, "broken.ini:3"));

  g_unlink (world_path);
  g_rmdir (dir);
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSimScenario) scenario = pl_sim_scenario_new_from_file ("/nonexistent/lesson.scenario", NULL, &error);

  g_assert_null (scenario);
  g_assert_error (error, PL_SIM_ERROR, PL_SIM_ERROR_SCENARIO);
  g_assert_nonnull (strstr (error->message, "lesson.scenario"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/scenario/parse-time", test_parse_time);
  g_test_add_func ("/sim/scenario/parse-bandwidth", test_parse_bandwidth);
  g_test_add_func ("/sim/scenario/textbook", test_textbook);
  g_test_add_func ("/sim/scenario/two-devices", test_two_devices);
  g_test_add_func ("/sim/scenario/action-order", test_action_order);
  g_test_add_func ("/sim/scenario/world-file", test_world_file);
  g_test_add_func ("/sim/scenario/bad", test_bad_scenarios);
  g_test_add_func ("/sim/scenario/nul-byte", test_nul_byte);
  g_test_add_func ("/sim/scenario/bad-world-file", test_bad_world_file);
  g_test_add_func ("/sim/scenario/missing-file", test_missing_file);
  return g_test_run ();
}
