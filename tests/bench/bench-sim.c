/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Benchmark of the simulator: N messages through the whole path, protocol events per second and peak memory. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <glib.h>

#include "pl-sim.h"

/*
 * Each message goes the whole way: Alice's user agent submits it (SMTP on
 * 587, with AUTH), mail.a.example relays it (DNS MX step, SMTP on 25) to
 * mail.b.example, and Bob's user agent pulls it with POP3 and deletes it.
 * The scenario is written out as text and read by the scenario parser, as
 * an instructor's would be. What is timed: pl_sim_run() building the trace
 * (a retaining PlTrace, as the GUI keeps one), not reading the scenario and
 * not printing anything.
 */

static char *
make_scenario (guint messages)
{
  GString *text = g_string_new (NULL);

  g_string_append (text,
                   "link default latency 1ms bandwidth 1Gbit/s\n"
                   "device alice user alice@a.example\n"
                   "device bob-pc user bob@b.example pull pop3 delete\n"
                   "mailbox bob@b.example empty\n");
  for (guint i = 0; i < messages; i++)
    g_string_append_printf (text,
                            "at %u.%03us send alice to bob@b.example textbook 1\n"
                            "at %u.%03us pull bob-pc\n",
                            i / 10, (i % 10) * 100, i / 10, (i % 10) * 100 + 80);
  return g_string_free (text, FALSE);
}

static gsize
trace_octets (PlTrace *trace)
{
  gsize total = 0;

  for (guint i = 0; i < pl_trace_get_n_events (trace); i++)
    {
      PlEvent *event = pl_trace_get_event (trace, i);
      gsize len = 0;

      pl_event_get_data (event, &len);
      total += len + strlen (event->text);
    }
  return total;
}

int
main (int    argc,
      char **argv)
{
  gint messages = 10000;
  gboolean stream = FALSE;
  const GOptionEntry entries[] = {
    { "messages", 'n', 0, G_OPTION_ARG_INT, &messages, "How many messages to send through (10000)", "N" },
    { "stream", 0, 0, G_OPTION_ARG_NONE, &stream, "Keep no events in the trace (what `simulate` does)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- benchmark the simulator");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr(PlSimScenario) scenario = NULL;
  g_autoptr(PlSim) sim = NULL;
  g_autoptr(PlTrace) trace = NULL;
  struct rusage usage;
  long rss_before;
  gint64 start, end;
  double seconds;
  guint64 events;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || messages < 1)
    {
      fprintf (stderr, "bench-sim: %s\n", error != NULL ? error->message : "--messages must be at least 1");
      return 2;
    }

  text = make_scenario ((guint) messages);
  scenario = pl_sim_scenario_new_from_data (text, -1, "bench.scenario", NULL, NULL, &error);
  if (scenario == NULL)
    {
      fprintf (stderr, "bench-sim: %s\n", error->message);
      return 1;
    }
  g_clear_pointer (&text, g_free);
  sim = pl_sim_new (scenario);
  trace = pl_trace_new (!stream);
  /* The peak so far is the scenario's (its text, parsed): what the run adds comes on top. */
  getrusage (RUSAGE_SELF, &usage);
  rss_before = usage.ru_maxrss;

  start = g_get_monotonic_time ();
  pl_sim_run (sim, trace);
  end = g_get_monotonic_time ();

  getrusage (RUSAGE_SELF, &usage);
  seconds = (double) (end - start) / G_USEC_PER_SEC;
  events = pl_sim_get_n_events (sim);
  if (pl_sim_count_mailbox (sim, "bob@b.example") != 0)
    {
      fprintf (stderr, "bench-sim: Bob's mailbox should be empty at the end\n");
      return 1;
    }
  printf ("messages=%d events=%" G_GUINT64_FORMAT " notes=%" G_GUINT64_FORMAT
          " segments=%" G_GUINT64_FORMAT " sessions=%u seconds=%.3f events_per_s=%.0f"
          " maxrss_kib=%ld maxrss_before_run_kib=%ld trace_kib=%" G_GSIZE_FORMAT " retained_events=%u\n",
          messages, events, pl_sim_get_n_notes (sim), pl_sim_get_n_segments (sim),
          pl_trace_get_n_sessions (trace), seconds, (double) events / seconds, usage.ru_maxrss, rss_before,
          trace_octets (trace) / 1024, pl_trace_get_n_events (trace));
  return 0;
}
