/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of whole simulations: the textbook path, two devices, bounces, retries, refusals, determinism. */

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "pl-sim.h"
#include "pl-test-event.h"
#include "pl-world.h"
#include "pl-writer.h"

/* A run, with everything it produced ------------------------------------------------------ */

typedef struct {
  PlSimScenario *scenario;
  PlSim         *sim;
  PlTrace       *trace;
  GString       *jsonl;       /* the trace as JSON Lines */
  GByteArray    *frames;      /* every frame with its arrival time: the pcap, give or take headers */
  GHashTable    *payloads;    /* session * 2 + (0 from the client, 1 from the server) -> GByteArray */
  guint          n_segments;
  guint          max_payload;
} Run;

static void
on_session_opened (PlSession *session,
                   gpointer   user_data)
{
  pl_jsonl_append_session (((Run *) user_data)->jsonl, session);
}

static void
on_event_added (PlSession *session,
                PlEvent   *event,
                gpointer   user_data)
{
  pl_jsonl_append_event (((Run *) user_data)->jsonl, event);
}

static void
on_session_closed (PlSession *session,
                   gpointer   user_data)
{
  pl_jsonl_append_end (((Run *) user_data)->jsonl, session);
}

static const PlTraceListener jsonl_listener = { on_session_opened, on_event_added, on_session_closed };

static void
on_segment (const PlSimSegment *segment,
            gpointer            user_data)
{
  Run *run = user_data;
  PlSession *session = pl_trace_get_session (run->trace, segment->session);
  g_autofree char *server_port = NULL;
  gboolean from_server;
  guint key;
  GByteArray *bytes;
  gsize size = pl_sim_segment_frame_size (segment);
  guint8 stamp[8];

  g_assert_nonnull (session);
  server_port = g_strdup_printf (":%u", segment->src.port);
  from_server = g_str_has_suffix (session->server, server_port)
                && g_str_has_prefix (session->server, pl_sim_get_host (run->sim, segment->src_host)->address);
  key = segment->session * 2 + (from_server ? 1 : 0);
  bytes = g_hash_table_lookup (run->payloads, GUINT_TO_POINTER (key));
  if (bytes == NULL)
    {
      bytes = g_byte_array_new ();
      g_hash_table_insert (run->payloads, GUINT_TO_POINTER (key), bytes);
    }
  g_byte_array_append (bytes, segment->payload, (guint) segment->len);

  for (guint i = 0; i < 8; i++)
    stamp[i] = (guint8) (segment->arrive >> (8 * i));
  g_byte_array_append (run->frames, stamp, 8);
  g_byte_array_set_size (run->frames, run->frames->len + (guint) size);
  pl_sim_segment_encode (segment, run->frames->data + run->frames->len - size);
  run->n_segments++;
  run->max_payload = MAX (run->max_payload, (guint) segment->len);
}

static Run *
run_text (const char *text,
          const char *base_dir)
{
  g_autoptr(GError) error = NULL;
  Run *run = g_new0 (Run, 1);

  run->scenario = pl_sim_scenario_new_from_data (text, -1, "test.scenario", base_dir, NULL, &error);
  g_assert_no_error (error);
  run->sim = pl_sim_new (run->scenario);
  run->trace = pl_trace_new (TRUE);
  run->jsonl = g_string_new (NULL);
  run->frames = g_byte_array_new ();
  run->payloads = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_byte_array_unref);
  pl_trace_add_listener (run->trace, &jsonl_listener, run);
  pl_sim_add_segment_func (run->sim, on_segment, run);
  pl_sim_run (run->sim, run->trace);
  return run;
}

static Run *
run_builtin (const char *name)
{
  g_autoptr(GBytes) bytes = pl_sim_scenario_get_builtin (name);
  g_autofree char *text = NULL;

  g_assert_nonnull (bytes);
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  return run_text (text, NULL);
}

static void
run_free (Run *run)
{
  g_object_unref (run->sim);
  g_object_unref (run->trace);
  g_object_unref (run->scenario);
  g_string_free (run->jsonl, TRUE);
  g_byte_array_unref (run->frames);
  g_hash_table_unref (run->payloads);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, run_free)

/* The events of @session, in order; with @notes FALSE only what crossed the wire. */
static GPtrArray *
events_of (Run      *run,
           guint     session,
           gboolean  notes)
{
  GPtrArray *events = g_ptr_array_new ();

  for (guint i = 0; i < pl_trace_get_n_events (run->trace); i++)
    {
      PlEvent *event = pl_trace_get_event (run->trace, i);

      if (event->session == session && (notes || event->kind != PL_EVENT_NOTE))
        g_ptr_array_add (events, event);
    }
  return events;
}

/* The notes with @verb, over the whole run. */
static GPtrArray *
notes_with (Run        *run,
            const char *verb)
{
  GPtrArray *notes = g_ptr_array_new ();

  for (guint i = 0; i < pl_trace_get_n_events (run->trace); i++)
    {
      PlEvent *event = pl_trace_get_event (run->trace, i);

      if (event->kind == PL_EVENT_NOTE && g_strcmp0 (event->verb, verb) == 0)
        g_ptr_array_add (notes, event);
    }
  return notes;
}

static gboolean
has_note_containing (Run        *run,
                     const char *text)
{
  for (guint i = 0; i < pl_trace_get_n_events (run->trace); i++)
    {
      PlEvent *event = pl_trace_get_event (run->trace, i);

      if (event->kind == PL_EVENT_NOTE && strstr (event->text, text) != NULL)
        return TRUE;
    }
  return FALSE;
}

/* The octets of all events of one direction of a session, concatenated (DESIGN.md: the byte stream). */
static GByteArray *
stream_of (Run         *run,
           guint        session,
           PlDirection  dir)
{
  g_autoptr(GPtrArray) events = events_of (run, session, FALSE);
  GByteArray *bytes = g_byte_array_new ();

  for (guint i = 0; i < events->len; i++)
    {
      PlEvent *event = g_ptr_array_index (events, i);
      gsize len;
      const guint8 *data = pl_event_get_data (event, &len);

      if (event->dir == dir)
        g_byte_array_append (bytes, data, (guint) len);
    }
  return bytes;
}

/* What the events say went over each connection is exactly what the segments carried. */
static void
assert_streams_match_segments (Run *run)
{
  for (guint id = 1; id <= pl_trace_get_n_sessions (run->trace); id++)
    for (guint side = 0; side < 2; side++)
      {
        g_autoptr(GByteArray) events = stream_of (run, id, side == 0 ? PL_DIR_CLIENT : PL_DIR_SERVER);
        GByteArray *segments = g_hash_table_lookup (run->payloads, GUINT_TO_POINTER (id * 2 + side));

        if (segments == NULL)
          g_assert_cmpuint (events->len, ==, 0);
        else
          g_assert_cmpmem (events->data, events->len, segments->data, segments->len);
      }
}

static void
assert_time_order (Run *run)
{
  double last = 0;

  for (guint i = 0; i < pl_trace_get_n_events (run->trace); i++)
    {
      PlEvent *event = pl_trace_get_event (run->trace, i);
      PlSession *session = pl_trace_get_session (run->trace, event->session);

      g_assert_cmpfloat (event->time, >=, last);
      g_assert_cmpfloat (event->time, >=, session->open_time);
      last = event->time;
    }
  for (guint id = 1; id <= pl_trace_get_n_sessions (run->trace); id++)
    {
      PlSession *session = pl_trace_get_session (run->trace, id);

      g_assert_false (pl_session_is_open (session));
      g_assert_cmpfloat (session->close_time, >=, session->open_time);
    }
}

static PlEvent *
event_at (GPtrArray *events,
          guint      index)
{
  g_assert_cmpuint (index, <, events->len);
  return g_ptr_array_index (events, index);
}

static char *
first_line (const PlEvent *event)
{
  const char *nl = strchr (event->text, '\n');

  return nl != NULL ? g_strndup (event->text, nl - event->text) : g_strdup (event->text);
}

/* The textbook ----------------------------------------------------------------------------- */

static void
assert_session (Run        *run,
                guint       id,
                PlProtocol  protocol,
                PlHop       hop,
                const char *client_host,
                const char *client_prefix,
                const char *server_host,
                const char *server)
{
  PlSession *session = pl_trace_get_session (run->trace, id);

  g_assert_nonnull (session);
  g_assert_cmpint (session->protocol, ==, protocol);
  g_assert_cmpint (session->hop, ==, hop);
  g_assert_cmpstr (session->client_host->name, ==, client_host);
  g_assert_true (g_str_has_prefix (session->client, client_prefix));
  g_assert_cmpstr (session->server_host->name, ==, server_host);
  g_assert_cmpstr (session->server, ==, server);
}

static void
test_textbook (void)
{
  g_autoptr(Run) run = run_builtin ("textbook");
  g_autoptr(GPtrArray) pop3 = events_of (run, 3, FALSE);
  g_autoptr(GPtrArray) mailbox = notes_with (run, "MAILBOX");
  g_autoptr(GPtrArray) dns = notes_with (run, "DNS");
  g_autoptr(GPtrArray) queue = notes_with (run, "QUEUE");
  /* Kurose & Ross's figure, as the foundation issue asks: what Bob types and what he is told. */
  static const struct { PlDirection dir; const char *text; } figure[] = {
    { PL_DIR_SERVER, "+OK POP3 server ready" },
    { PL_DIR_CLIENT, "user bob" },
    { PL_DIR_SERVER, "+OK" },
    { PL_DIR_CLIENT, "pass hungry" },
    { PL_DIR_SERVER, "+OK user successfully logged on" },
    { PL_DIR_CLIENT, "list" },
    { PL_DIR_SERVER, NULL },
    { PL_DIR_CLIENT, "retr 1" },
    { PL_DIR_SERVER, "+OK 498 octets" },
    { PL_DIR_CLIENT, "dele 1" },
    { PL_DIR_SERVER, NULL },
    { PL_DIR_CLIENT, "retr 2" },
    { PL_DIR_SERVER, "+OK 912 octets" },
    { PL_DIR_CLIENT, "dele 2" },
    { PL_DIR_SERVER, NULL },
    { PL_DIR_CLIENT, "quit" },
    { PL_DIR_SERVER, "+OK POP3 server signing off" },
  };
  gsize len;
  const char *data;

  g_assert_cmpuint (pl_trace_get_n_sessions (run->trace), ==, 3);
  assert_session (run, 1, PL_PROTOCOL_SMTP, PL_HOP_SUBMISSION, "alice", "192.0.2.10:", "mail.a.example",
                  "192.0.2.25:587");
  assert_session (run, 2, PL_PROTOCOL_SMTP, PL_HOP_RELAY, "mail.a.example", "192.0.2.25:", "mail.b.example",
                  "198.51.100.25:25");
  assert_session (run, 3, PL_PROTOCOL_POP3, PL_HOP_ACCESS, "bob-pc", "198.51.100.10:", "mail.b.example",
                  "198.51.100.25:110");
  g_assert_cmpint (pl_trace_get_session (run->trace, 1)->client_host->role, ==, PL_ROLE_USER_AGENT);
  g_assert_cmpint (pl_trace_get_session (run->trace, 2)->server_host->role, ==, PL_ROLE_RECEIVING_SERVER);

  g_assert_cmpuint (pop3->len, ==, G_N_ELEMENTS (figure));
  for (guint i = 0; i < G_N_ELEMENTS (figure); i++)
    {
      PlEvent *event = event_at (pop3, i);
      g_autofree char *line = first_line (event);

      g_assert_cmpint (event->dir, ==, figure[i].dir);
      if (figure[i].text != NULL)
        g_assert_cmpstr (line, ==, figure[i].text);
    }
  data = (const char *) pl_event_get_data (event_at (pop3, 6), &len);
  {
    g_autofree char *text = g_strndup (data, len);

    g_assert_true (g_str_has_suffix (text, "\r\n1 498\r\n2 912\r\n.\r\n"));
  }
  /* The second message: both hops' Received: lines, and its dot line stuffed on the wire. */
  data = (const char *) pl_event_get_data (event_at (pop3, 12), &len);
  {
    g_autofree char *text = g_strndup (data, len);

    g_assert_nonnull (strstr (text, "\r\nReceived: from mail.a.example (192.0.2.25)\r\n\tby mail.b.example"));
    g_assert_nonnull (strstr (text, "\r\nReceived: from [192.0.2.10] (192.0.2.10)\r\n\tby mail.a.example"));
    g_assert_nonnull (strstr (text, "\r\n... and that line starts with a dot"));
    g_assert_true (g_str_has_suffix (text, "\r\nAlice\r\n.\r\n"));
  }

  /* Both SMTP hops, as the sender's engine sent them. */
  {
    static const char *const submission[] = { "EHLO", "AUTH", "MAIL", "RCPT", "DATA", NULL, "QUIT" };
    static const char *const relay[] = { "EHLO", "MAIL", "RCPT", "DATA", NULL, "QUIT" };
    const char *const *verbs[] = { submission, relay };
    gsize n_verbs[] = { G_N_ELEMENTS (submission), G_N_ELEMENTS (relay) };

    for (guint s = 0; s < 2; s++)
      {
        g_autoptr(GPtrArray) events = events_of (run, s + 1, FALSE);
        guint k = 0;

        for (guint i = 0; i < events->len; i++)
          {
            PlEvent *event = g_ptr_array_index (events, i);

            if (event->dir != PL_DIR_CLIENT)
              continue;
            g_assert_cmpuint (k, <, n_verbs[s]);
            if (verbs[s][k] == NULL)
              g_assert_cmpint (event->kind, ==, PL_EVENT_DATA);
            else
              g_assert_cmpstr (event->verb, ==, verbs[s][k]);
            k++;
          }
        g_assert_cmpuint (k, ==, n_verbs[s]);
      }
  }

  /* What the mailboxes hold: before, once Alice's message is in, once Bob has quit. */
  g_assert_cmpuint (mailbox->len, ==, 4);
  g_assert_cmpstr (event_at (mailbox, 0)->args, ==, "mail.a.example alice@a.example 0 0");
  g_assert_cmpstr (event_at (mailbox, 1)->args, ==, "mail.b.example bob@b.example 1 498");
  g_assert_cmpstr (event_at (mailbox, 2)->args, ==, "mail.b.example bob@b.example 2 1410");
  g_assert_cmpuint (event_at (mailbox, 2)->session, ==, 2);
  g_assert_cmpstr (event_at (mailbox, 2)->text, ==,
                   "mailbox bob@b.example on mail.b.example holds 2 messages (498 + 912 = 1410 octets)");
  g_assert_cmpstr (event_at (mailbox, 3)->args, ==, "mail.b.example bob@b.example 0 0");
  g_assert_cmpuint (event_at (mailbox, 3)->session, ==, 3);
  /* ... and the POP3 session emptied it with its last reply. */
  g_assert_cmpfloat (event_at (mailbox, 3)->time, ==, event_at (pop3, pop3->len - 1)->time);
  g_assert_cmpuint (pl_sim_count_mailbox (run->sim, "bob@b.example"), ==, 0);

  /* The queue holds the message from the 250 of submission until the relay's 250. */
  g_assert_cmpuint (queue->len, ==, 2);
  g_assert_cmpstr (event_at (queue, 0)->args, ==, "mail.a.example 1");
  g_assert_cmpuint (event_at (queue, 0)->session, ==, 1);
  g_assert_cmpstr (event_at (queue, 1)->args, ==, "mail.a.example 0");
  g_assert_cmpuint (event_at (queue, 1)->session, ==, 2);

  /* The relay looks up the MX first, and it takes the scenario's DNS delay. */
  g_assert_cmpuint (dns->len, ==, 2);
  g_assert_cmpstr (event_at (dns, 0)->args, ==, "MX b.example");
  g_assert_cmpstr (event_at (dns, 1)->args, ==, "MX b.example mail.b.example 198.51.100.25");
  g_assert_cmpuint (event_at (dns, 0)->session, ==, 2);
  g_assert_cmpfloat_with_epsilon (event_at (dns, 1)->time - event_at (dns, 0)->time, 0.010, 1e-9);
  {
    g_autoptr(GPtrArray) relay = events_of (run, 2, FALSE);

    g_assert_cmpfloat (event_at (relay, 0)->time, >, event_at (dns, 1)->time);
  }

  assert_streams_match_segments (run);
  assert_time_order (run);
  g_assert_cmpuint (pl_sim_get_n_segments (run->sim), ==, run->n_segments);
  g_assert_cmpuint (pl_sim_get_n_events (run->sim), ==, 15 + 13 + 17);
}

/* Same scenario, same bytes: the JSON Lines and every frame; the seed moves only the sequence numbers. */
static void
test_deterministic (void)
{
  g_autoptr(Run) first = run_builtin ("textbook");
  g_autoptr(Run) second = run_builtin ("textbook");
  g_autoptr(GBytes) bytes = pl_sim_scenario_get_builtin ("textbook");
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_autofree char *reseeded_text = g_strconcat (text, "\nseed 2\n", NULL);
  g_autoptr(Run) reseeded = NULL;

  g_assert_cmpuint (first->jsonl->len, >, 1000);
  g_assert_cmpstr (first->jsonl->str, ==, second->jsonl->str);
  g_assert_cmpmem (first->frames->data, first->frames->len, second->frames->data, second->frames->len);

  reseeded = run_text (reseeded_text, NULL);
  g_assert_cmpstr (first->jsonl->str, ==, reseeded->jsonl->str);
  g_assert_cmpuint (first->frames->len, ==, reseeded->frames->len);
  g_assert_true (memcmp (first->frames->data, reseeded->frames->data, first->frames->len) != 0);
}

/* A streamed run's events, kept by a listener as they go by. */
static void
keep_event (PlSession *session,
            PlEvent   *event,
            gpointer   user_data)
{
  g_ptr_array_add (user_data, pl_event_ref (event));
}

/* How many events (with octets, or notes) show the very text of an event before them: they share it. */
static guint
count_shared (PlEvent  **events,
              guint      n,
              gboolean   notes)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  guint shared = 0;

  for (guint i = 0; i < n; i++)
    if ((events[i]->kind == PL_EVENT_NOTE) == notes && !g_hash_table_add (seen, events[i]->text))
      shared++;
  return shared;
}

/*
 * A retained trace keeps a run's identical units once, their events
 * sharing the memory: every field of every event is still what a streamed
 * run (which shares nothing) shows, after the run as during it.
 */
static void
test_retained_shares (void)
{
  g_autoptr(GString) text = g_string_new ("device alice user alice@a.example\n"
                                          "device bob-pc user bob@b.example pull pop3 delete\n"
                                          "mailbox bob@b.example empty\n");
  g_autoptr(Run) retained = NULL;
  g_autoptr(PlSimScenario) scenario = NULL;
  g_autoptr(PlSim) sim = NULL;
  g_autoptr(PlTrace) streamed = pl_trace_new (FALSE);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_event_unref);
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();
  const PlTraceListener keeper = { NULL, keep_event, NULL };
  g_autoptr(GError) error = NULL;
  guint n;

  for (guint i = 0; i < 20; i++)
    g_string_append_printf (text, "at %u.%u send alice to bob@b.example textbook 1\nat %u.%u pull bob-pc\n",
                            i, 0, i, 5);
  retained = run_text (text->str, NULL);
  scenario = pl_sim_scenario_new_from_data (text->str, -1, "test.scenario", NULL, NULL, &error);
  g_assert_no_error (error);
  sim = pl_sim_new (scenario);
  pl_trace_add_listener (streamed, &keeper, events);
  pl_sim_run (sim, streamed);

  n = pl_trace_get_n_events (retained->trace);
  g_assert_cmpuint (n, ==, events->len);
  g_assert_cmpuint (n, >, 20 * 41);
  for (guint i = 0; i < n; i++)
    {
      PlEvent *a = pl_trace_get_event (retained->trace, i);
      PlEvent *b = g_ptr_array_index (events, i);

      g_ptr_array_add (kept, a);
      pl_test_assert_same_event (a, b);
      g_assert_cmpuint (a->session, ==, b->session);
      g_assert_cmpfloat (a->time, ==, b->time);
    }
  /* Most units of the nineteen messages after the first are the first's again; a streamed run shares none. */
  g_assert_cmpuint (count_shared ((PlEvent **) kept->pdata, n, FALSE), >, 19 * 30);
  g_assert_cmpuint (count_shared ((PlEvent **) kept->pdata, n, TRUE), >, 19 * 4);
  g_assert_cmpuint (count_shared ((PlEvent **) events->pdata, n, FALSE), ==, 0);
  g_assert_cmpuint (count_shared ((PlEvent **) events->pdata, n, TRUE), ==, 0);
}

/* POP3 download-and-delete on the laptop; the phone, which would keep mail, finds none. */
static void
test_two_devices (void)
{
  g_autoptr(Run) run = run_builtin ("two-devices");
  g_autoptr(GPtrArray) laptop = events_of (run, 3, FALSE);
  g_autoptr(GPtrArray) phone = events_of (run, 4, FALSE);
  g_autoptr(GPtrArray) mailbox = notes_with (run, "MAILBOX");
  guint retr = 0, dele = 0;

  g_assert_cmpuint (pl_trace_get_n_sessions (run->trace), ==, 4);
  assert_session (run, 3, PL_PROTOCOL_POP3, PL_HOP_ACCESS, "bob-laptop", "198.51.100.10:", "mail.b.example",
                  "198.51.100.25:110");
  assert_session (run, 4, PL_PROTOCOL_POP3, PL_HOP_ACCESS, "bob-phone", "198.51.100.11:", "mail.b.example",
                  "198.51.100.25:110");
  for (guint i = 0; i < laptop->len; i++)
    {
      PlEvent *event = g_ptr_array_index (laptop, i);

      retr += g_strcmp0 (event->verb, "RETR") == 0;
      dele += g_strcmp0 (event->verb, "DELE") == 0;
    }
  g_assert_cmpuint (retr, ==, 3);
  g_assert_cmpuint (dele, ==, 3);

  /* The phone: logged in, listed nothing, quit. */
  g_assert_cmpuint (phone->len, ==, 9);
  g_assert_cmpstr (event_at (phone, 5)->verb, ==, "LIST");
  g_assert_cmpstr (event_at (phone, 6)->text, ==, "+OK 0 messages (0 octets)\n.");
  g_assert_cmpstr (event_at (phone, 7)->verb, ==, "QUIT");

  g_assert_cmpstr (event_at (mailbox, 1)->args, ==, "mail.b.example bob@b.example 2 1410");
  g_assert_cmpstr (event_at (mailbox, 2)->args, ==, "mail.b.example bob@b.example 3 1902");
  g_assert_cmpstr (event_at (mailbox, mailbox->len - 2)->args, ==, "mail.b.example bob@b.example 0 0");
  g_assert_cmpuint (event_at (mailbox, mailbox->len - 2)->session, ==, 3);
  /* Said again at the end of the phone's session: it is what the phone found. */
  g_assert_cmpstr (event_at (mailbox, mailbox->len - 1)->args, ==, "mail.b.example bob@b.example 0 0");
  g_assert_cmpuint (event_at (mailbox, mailbox->len - 1)->session, ==, 4);

  /* The phone's link: 40 ms each way, so its greeting comes a round trip and a half after 2 s. */
  g_assert_cmpfloat (event_at (phone, 0)->time, >, 2.120);
  g_assert_cmpfloat (event_at (phone, 0)->time, <, 2.122);

  assert_streams_match_segments (run);
  assert_time_order (run);
}

/* A recipient the next server refuses (550): the message comes back to Alice as a bounce. */
static void
test_bounce (void)
{
  g_autoptr(Run) run = run_text ("device alice user alice@a.example\n"
                                 "at 0 send alice to nobody@b.example subject Lost body \"Anyone there?\"\n",
                                 NULL);
  g_autoptr(GPtrArray) relay = events_of (run, 2, FALSE);
  g_autoptr(GPtrArray) queue = notes_with (run, "QUEUE");
  g_autoptr(GPtrArray) mailbox = notes_with (run, "MAILBOX");
  gboolean refused = FALSE;

  g_assert_cmpuint (pl_trace_get_n_sessions (run->trace), ==, 2);
  for (guint i = 0; i < relay->len; i++)
    {
      g_autofree char *line = first_line (g_ptr_array_index (relay, i));

      refused = refused || g_str_has_prefix (line, "550 5.1.1 <nobody@b.example>");
    }
  g_assert_true (refused);
  g_assert_true (has_note_containing (run, "mail.a.example sends alice@a.example a bounce"));
  g_assert_cmpuint (pl_sim_count_mailbox (run->sim, "alice@a.example"), ==, 1);
  /* Bob's mailbox is the world's: the textbook's two, untouched. */
  g_assert_cmpuint (pl_sim_count_mailbox (run->sim, "bob@b.example"), ==, 2);
  g_assert_cmpstr (event_at (queue, queue->len - 1)->args, ==, "mail.a.example 0");
  g_assert_true (g_str_has_prefix (event_at (mailbox, mailbox->len - 1)->args, "mail.a.example alice@a.example 1 "));
  assert_streams_match_segments (run);
  assert_time_order (run);
}

/* A world file next to the scenario, made from the default world with @edits applied. */
static char *
write_world (const char        *dir,
             const char *const *edits)
{
  g_autoptr(GBytes) bytes = pl_world_get_default_data ();
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  char *path = g_build_filename (dir, "world.ini", NULL);

  for (guint i = 0; edits[i] != NULL; i += 2)
    {
      g_auto(GStrv) parts = g_strsplit (text, edits[i], 2);

      g_assert_nonnull (parts[1]);
      g_free (text);
      text = g_strconcat (parts[0], edits[i + 1], parts[1], NULL);
    }
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

/* mail.b.example runs no SMTP: each try is refused (RST), the queue waits its intervals, then bounces. */
static void
test_retry_then_bounce (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-sim-run-XXXXXX", NULL);
  const char *const edits[] = {
    "smtp-port = 2526\n", "",
    "retry-intervals = 60;300;900;3600", "retry-intervals = 1;2",
    NULL
  };
  g_autofree char *world = write_world (dir, edits);
  g_autoptr(Run) run = run_text ("world world.ini\n"
                                 "device alice user alice@a.example\n"
                                 "at 0 send alice to bob@b.example subject Hello body Hi\n", dir);
  g_autoptr(GPtrArray) queue = notes_with (run, "QUEUE");
  g_autoptr(GPtrArray) tcp = notes_with (run, "TCP");
  guint refusals = 0;

  g_assert_cmpuint (pl_trace_get_n_sessions (run->trace), ==, 4);
  for (guint id = 2; id <= 4; id++)
    {
      PlSession *session = pl_trace_get_session (run->trace, id);
      g_autoptr(GPtrArray) events = events_of (run, id, FALSE);

      g_assert_cmpint (session->hop, ==, PL_HOP_RELAY);
      g_assert_cmpuint (events->len, ==, 0);
    }
  /* The tries: at once, a second later, two seconds after that. */
  g_assert_cmpfloat (pl_trace_get_session (run->trace, 3)->open_time - pl_trace_get_session (run->trace, 2)->open_time,
                     >, 1.0);
  g_assert_cmpfloat (pl_trace_get_session (run->trace, 3)->open_time - pl_trace_get_session (run->trace, 2)->open_time,
                     <, 1.1);
  g_assert_cmpfloat (pl_trace_get_session (run->trace, 4)->open_time - pl_trace_get_session (run->trace, 3)->open_time,
                     >, 2.0);
  g_assert_cmpfloat (pl_trace_get_session (run->trace, 4)->open_time - pl_trace_get_session (run->trace, 3)->open_time,
                     <, 2.1);
  for (guint i = 0; i < tcp->len; i++)
    refusals += g_str_has_suffix (event_at (tcp, i)->args, " refused");
  g_assert_cmpuint (refusals, ==, 3);
  g_assert_true (has_note_containing (run, "stays queued; try 2 in 1 s"));
  g_assert_true (has_note_containing (run, "stays queued; try 3 in 2 s"));
  g_assert_true (has_note_containing (run, "mail.a.example sends alice@a.example a bounce"));
  g_assert_cmpstr (event_at (queue, queue->len - 1)->args, ==, "mail.a.example 0");
  g_assert_cmpuint (pl_sim_count_mailbox (run->sim, "alice@a.example"), ==, 1);
  assert_time_order (run);

  g_unlink (world);
  g_rmdir (dir);
}

/* A server without POP3: the pull is refused with RST, and the trace says so. */
static void
test_pop3_refused (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-sim-run-XXXXXX", NULL);
  const char *const edits[] = { "pop3-port = 1110\n", "", NULL };
  g_autofree char *world = write_world (dir, edits);
  g_autoptr(Run) run = run_text ("world world.ini\n"
                                 "device bob-pc user bob@b.example pull pop3\n"
                                 "at 1s pull bob-pc\n", dir);
  g_autoptr(GPtrArray) events = events_of (run, 1, FALSE);

  g_assert_cmpuint (pl_trace_get_n_sessions (run->trace), ==, 1);
  g_assert_cmpuint (events->len, ==, 0);
  g_assert_true (has_note_containing (run, "mail.b.example refuses the connection (RST): nothing listens on port 110"));
  /* SYN, then RST-ACK. */
  g_assert_cmpuint (run->n_segments, ==, 2);
  g_assert_cmpuint (pl_sim_count_mailbox (run->sim, "bob@b.example"), ==, 2);
  assert_time_order (run);

  g_unlink (world);
  g_rmdir (dir);
}

/* Without AUTH, from outside its trusted networks, the sending server is no open relay. */
static void
test_relay_denied (void)
{
  g_autoptr(Run) run = run_text ("device alice user alice@a.example noauth\n"
                                 "at 0 send alice to bob@b.example textbook 1\n", NULL);
  g_autoptr(GPtrArray) events = events_of (run, 1, FALSE);
  gboolean denied = FALSE, auth = FALSE;

  g_assert_cmpuint (pl_trace_get_n_sessions (run->trace), ==, 1);
  for (guint i = 0; i < events->len; i++)
    {
      PlEvent *event = g_ptr_array_index (events, i);

      denied = denied || g_str_has_prefix (event->text, "550 5.7.1 <bob@b.example>: relay access denied");
      auth = auth || g_strcmp0 (event->verb, "AUTH") == 0;
    }
  g_assert_true (denied);
  g_assert_false (auth);
  g_assert_cmpuint (pl_sim_count_mailbox (run->sim, "bob@b.example"), ==, 2);
  {
    g_autoptr(GPtrArray) queue = notes_with (run, "QUEUE");

    g_assert_cmpuint (queue->len, ==, 0);
  }
}

/* A wrong password: the server holds its -ERR back a second (in virtual time) before sending it. */
static void
test_auth_delay (void)
{
  g_autoptr(Run) run = run_text ("device bob-pc user bob@b.example pull pop3\n"
                                 "at 0 pull bob-pc script \"user bob\" \"pass wrong\" \"quit\"\n", NULL);
  g_autoptr(GPtrArray) events = events_of (run, 1, FALSE);
  PlEvent *pass = event_at (events, 3);
  PlEvent *refusal = event_at (events, 4);

  g_assert_cmpstr (pass->verb, ==, "PASS");
  g_assert_true (g_str_has_prefix (refusal->text, "-ERR"));
  g_assert_cmpfloat (refusal->time - pass->time, >, 1.0);
  g_assert_cmpfloat (refusal->time - pass->time, <, 1.01);
  g_assert_cmpstr (event_at (events, 5)->verb, ==, "QUIT");
  g_assert_cmpuint (pl_sim_count_mailbox (run->sim, "bob@b.example"), ==, 2);
  assert_streams_match_segments (run);
  assert_time_order (run);
}

/* A long message over a small MSS: many segments, none over it, the stream whole. */
static void
test_small_mss (void)
{
  GString *text = g_string_new ("mss 536\nlink default latency 1ms bandwidth 1Mbit/s\n"
                                "device alice user alice@a.example\n"
                                "device bob-pc user bob@b.example pull pop3 keep\n"
                                "message long\nSubject: long\n\n");
  g_autoptr(Run) run = NULL;

  for (guint i = 0; i < 100; i++)
    g_string_append_printf (text, "%s line %u of a long message, to be cut into segments\n", i % 7 ? "" : ".", i);
  g_string_append (text, ".\nat 0 send alice to bob@b.example message long\nat 5s pull bob-pc\n");
  run = run_text (text->str, NULL);
  g_string_free (text, TRUE);

  g_assert_cmpuint (run->max_payload, ==, 536);
  g_assert_cmpuint (pl_trace_get_n_sessions (run->trace), ==, 3);
  /* Kept on the server: Bob's two and Alice's, still there. */
  g_assert_cmpuint (pl_sim_count_mailbox (run->sim, "bob@b.example"), ==, 3);
  assert_streams_match_segments (run);
  assert_time_order (run);
}

static void
test_topology_jsonl (void)
{
  g_autoptr(GBytes) bytes = pl_sim_scenario_get_builtin ("two-devices");
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSimScenario) scenario = pl_sim_scenario_new_from_data (g_bytes_get_data (bytes, NULL),
                                                                     (gssize) g_bytes_get_size (bytes),
                                                                     "two-devices", NULL, NULL, &error);
  g_autoptr(PlSim) sim = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;

  g_assert_no_error (error);
  sim = pl_sim_new (scenario);
  pl_sim_append_topology_jsonl (sim, out);
  lines = g_strsplit (out->str, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5 + 4 + 1);
  g_assert_cmpstr (lines[0], ==,
                   "{\"type\":\"host\",\"host\":1,\"name\":\"mail.a.example\",\"role\":\"sending-server\","
                   "\"domain\":\"a.example\",\"address\":\"192.0.2.25\"}");
  g_assert_cmpstr (lines[4], ==,
                   "{\"type\":\"host\",\"host\":5,\"name\":\"bob-phone\",\"role\":\"user-agent\","
                   "\"owner\":\"bob@b.example\",\"domain\":\"b.example\",\"address\":\"198.51.100.11\","
                   "\"pull\":\"pop3\",\"options\":[\"keep\"]}");
  g_assert_cmpstr (lines[7], ==,
                   "{\"type\":\"link\",\"a\":\"bob-phone\",\"b\":\"mail.b.example\",\"latency\":0.04,"
                   "\"bandwidth\":2000000}");
  g_assert_cmpstr (lines[8], ==,
                   "{\"type\":\"link\",\"a\":\"mail.a.example\",\"b\":\"mail.b.example\",\"latency\":0.02,"
                   "\"bandwidth\":10000000}");
  g_assert_cmpuint (pl_sim_get_n_links (sim), ==, 4);
  g_assert_cmpstr (pl_sim_lookup_host (sim, "bob-phone")->address, ==, "198.51.100.11");
  g_assert_cmpmem (pl_sim_lookup_host (sim, "bob-phone")->mac, 6, ((const guint8[]) { 2, 0, 198, 51, 100, 11 }), 6);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/run/textbook", test_textbook);
  g_test_add_func ("/sim/run/deterministic", test_deterministic);
  g_test_add_func ("/sim/run/retained-shares", test_retained_shares);
  g_test_add_func ("/sim/run/two-devices", test_two_devices);
  g_test_add_func ("/sim/run/bounce", test_bounce);
  g_test_add_func ("/sim/run/retry-then-bounce", test_retry_then_bounce);
  g_test_add_func ("/sim/run/pop3-refused", test_pop3_refused);
  g_test_add_func ("/sim/run/relay-denied", test_relay_denied);
  g_test_add_func ("/sim/run/auth-delay", test_auth_delay);
  g_test_add_func ("/sim/run/small-mss", test_small_mss);
  g_test_add_func ("/sim/run/topology-jsonl", test_topology_jsonl);
  return g_test_run ();
}
