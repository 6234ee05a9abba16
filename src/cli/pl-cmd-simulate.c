/* SPDX-License-Identifier: GPL-3.0-or-later */
/* postlab-cli simulate: runs a scenario in virtual time and prints every session in one timeline. */
#define G_LOG_DOMAIN "postlab-cli"

#include <stdio.h>
#include <string.h>

#include "pl-cli.h"
#include "pl-sim.h"
#include "pl-sim-error.h"
#include "pl-sim-pcap.h"
#include "pl-world.h"
#include "pl-writer.h"

typedef struct {
  PlSimPcapWriter *pcap;
  GError          *error;   /* the first write that failed; later packets are dropped */
} PcapSink;

static void
on_segment (const PlSimSegment *segment,
            gpointer            user_data)
{
  PcapSink *sink = user_data;

  if (sink->error == NULL)
    pl_sim_pcap_writer_add (sink->pcap, segment, &sink->error);
}

static PlWorld *
load_world (const char  *path,
            GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return pl_world_new_from_data (contents, (gssize) length, path, error);
}

int
pl_cmd_simulate (int    argc,
                 char **argv)
{
  gboolean json = FALSE;
  gboolean explain = FALSE;
  g_autofree char *pcap_path = NULL;
  g_autofree char *world_path = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print the hosts, links and sessions as JSON Lines instead of text", NULL },
    { "pcap", 0, 0, G_OPTION_ARG_FILENAME, &pcap_path,
      "Also write every TCP segment to OUT, a pcap file (Ethernet, IPv4, TCP)", "OUT" },
    { "explain", 0, 0, G_OPTION_ARG_NONE, &explain,
      "Say under each command and reply what it means and which RFC says so", NULL },
    { "world", 0, 0, G_OPTION_ARG_FILENAME, &world_path,
      "The world for a scenario that names none (default: the built-in world.ini)", "FILE" },
    { NULL }
  };
  g_autoptr(PlWorld) world = NULL;
  g_autoptr(PlSimScenario) scenario = NULL;
  g_autoptr(PlSim) sim = NULL;
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlWriter) writer = NULL;
  g_autoptr(GError) error = NULL;
  PcapSink sink = { NULL, NULL };
  PlWriterFlags flags = PL_WRITER_FLAGS_SESSION_LINES | PL_WRITER_FLAGS_SESSION_IDS;
  int exit_code = PL_EXIT_OK;

  if (!pl_cli_parse_options ("simulate", "[SCENARIO]",
                             "Runs a scenario of the mail path in virtual time, with Postlab's own\n"
                             "engines on simulated hosts, links and TCP, and prints every session in\n"
                             "one timeline. Without SCENARIO it runs the textbook's: Alice's message\n"
                             "goes to her server and on to Bob's by SMTP, and Bob's user agent types\n"
                             "the POP3 session of the figure. The same scenario gives the same output\n"
                             "(and the same pcap) every time. lessons/textbook.scenario explains the\n"
                             "format.",
                             entries, &argc, &argv, &exit_code))
    return exit_code;
  if (argc > 2)
    return pl_cli_usage_error ("simulate", "unexpected argument '%s'", argv[2]);
  if (pcap_path != NULL && *pcap_path == '\0')
    return pl_cli_usage_error ("simulate", "--pcap needs a file name");

  if (world_path != NULL)
    {
      world = load_world (world_path, &error);
      if (world == NULL)
        {
          pl_cli_error ("simulate", "%s", error->message);
          return PL_EXIT_USAGE;
        }
    }
  if (argc == 2)
    scenario = pl_sim_scenario_new_from_file (argv[1], world, &error);
  else
    scenario = pl_sim_scenario_new_default (world, &error);
  if (scenario == NULL)
    {
      /* The message names the file and line; nothing has been written. */
      pl_cli_error ("simulate", "%s", error->message);
      return PL_EXIT_USAGE;
    }

  sim = pl_sim_new (scenario);
  if (pcap_path != NULL)
    {
      sink.pcap = pl_sim_pcap_writer_new (pcap_path, pl_sim_scenario_get_epoch (scenario), &error);
      if (sink.pcap == NULL)
        {
          pl_cli_error ("simulate", "%s", error->message);
          return PL_EXIT_USAGE;
        }
      pl_sim_add_segment_func (sim, on_segment, &sink);
    }

  /* Streamed: the writer prints each unit as the run makes it, and the trace keeps nothing. */
  trace = pl_trace_new (FALSE);
  if (json)
    {
      g_autoptr(GString) topology = g_string_new (NULL);

      pl_sim_append_topology_jsonl (sim, topology);
      fputs (topology->str, stdout);
      writer = pl_writer_new (stdout, PL_WRITER_JSONL, PL_WRITER_FLAGS_NONE);
    }
  else
    {
      if (explain)
        flags |= PL_WRITER_FLAGS_EXPLAIN;
      writer = pl_writer_new (stdout, PL_WRITER_TEXT, flags);
    }
  pl_writer_attach (writer, trace);

  pl_sim_run (sim, trace);

  pl_writer_detach (writer);
  fflush (stdout);

  if (sink.pcap != NULL)
    {
      if (sink.error == NULL)
        pl_sim_pcap_writer_commit (sink.pcap, &sink.error);
      if (sink.error != NULL)
        {
          pl_cli_error ("simulate", "%s", sink.error->message);
          exit_code = PL_EXIT_USAGE;
        }
      /* Not committed: the temporary file goes, and OUT is left as it was. */
      pl_sim_pcap_writer_free (sink.pcap);
      g_clear_error (&sink.error);
    }
  return exit_code;
}
