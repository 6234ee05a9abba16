/* SPDX-License-Identifier: GPL-3.0-or-later */
/* postlab-cli trace: a pcap or pcapng file (or standard input) shown as mail sessions, command by reply. */
#define G_LOG_DOMAIN "postlab-cli"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "pl-cli.h"
#include "pl-pcap-source.h"
#include "pl-trace-error.h"
#include "pl-trace-printer.h"
#include "pl-tracer.h"

/* The capture is damaged: what came before the damage was shown, then this exit status. */
#define EXIT_DAMAGED 1
/* Past this many, packet warnings are only counted. */
#define MAX_WARNINGS 20

static PlPcapSource *volatile running_source;

/* Ctrl-C (or SIGTERM): stop reading; what was read is finished and shown, whole lines only. */
static void
on_signal (int signum)
{
  pl_pcap_source_break (running_source);
}

static void
set_handlers (gboolean on)
{
  struct sigaction action;

  memset (&action, 0, sizeof action);
  action.sa_handler = on ? on_signal : SIG_DFL;
  sigemptyset (&action.sa_mask);
  /* No SA_RESTART: a read from a pipe that waits returns, and the loop sees the stop. */
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);
}

typedef struct {
  const char     *command;
  PlTracePrinter *printer;
  guint           n_warnings;
} Warnings;

static void
on_warning (const GError *warning,
            gpointer      user_data)
{
  Warnings *w = user_data;

  w->n_warnings++;
  if (w->n_warnings > MAX_WARNINGS)
    return;
  /* What was printed so far goes first, so the warning stands where it happened. */
  pl_trace_printer_flush (w->printer);
  pl_cli_error (w->command, "%s", warning->message);
}

int
pl_cmd_trace (int    argc,
              char **argv)
{
  gboolean json = FALSE;
  gboolean explain = FALSE;
  gboolean all = FALSE;
  gboolean stats = FALSE;
  char *filter = NULL;
  int session = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON Lines (one object per session, event and note)", NULL },
    { "filter", 'f', 0, G_OPTION_ARG_STRING, &filter, "Read only packets that match this BPF filter (pcap-filter(7))", "BPF" },
    { "session", 0, 0, G_OPTION_ARG_INT, &session, "Show only session N", "N" },
    { "explain", 0, 0, G_OPTION_ARG_NONE, &explain, "Say under each command and reply what it means, with its RFC section", NULL },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Show TCP connections of unknown protocols too, as raw data", NULL },
    { "stats", 0, 0, G_OPTION_ARG_NONE, &stats, "Count packets and sessions on standard error at the end", NULL },
    { NULL }
  };
  g_autofree char *filter_owned = NULL;
  g_autoptr(PlPcapSource) source = NULL;
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlTracePrinter) printer = NULL;
  g_autoptr(GError) error = NULL;
  PlTracer *tracer;
  const PlTracerStats *st;
  Warnings warnings = { "trace", NULL, 0 };
  int exit_code = PL_EXIT_OK;
  gboolean ok;

  if (!pl_cli_parse_options ("trace", "FILE|-",
                             "Show the mail sessions in a pcap or pcapng capture, one line per command and reply.\n"
                             "FILE '-' reads standard input: tcpdump -i lo -w - | postlab-cli trace -",
                             entries, &argc, &argv, &exit_code))
    return exit_code;
  filter_owned = filter;
  if (argc != 2)
    return pl_cli_usage_error ("trace", argc < 2 ? "name a capture file (or - for standard input)"
                                                 : "give one capture file, not %d", argc - 1);
  if (session < 0)
    return pl_cli_usage_error ("trace", "--session %d is not a session number", session);

  source = pl_pcap_source_open_file (argv[1], &error);
  if (source == NULL)
    {
      pl_cli_error ("trace", "%s", error->message);
      return g_error_matches (error, PL_TRACE_ERROR, PL_TRACE_ERROR_OPEN) ? PL_EXIT_USAGE : EXIT_DAMAGED;
    }
  if (filter != NULL && !pl_pcap_source_set_filter (source, filter, &error))
    return pl_cli_usage_error ("trace", "%s", error->message);

  trace = pl_trace_new (FALSE);
  printer = pl_trace_printer_new (stdout, json ? PL_WRITER_JSONL : PL_WRITER_TEXT, explain, FALSE);
  pl_trace_printer_set_session (printer, (guint) session);
  pl_trace_printer_attach (printer, trace);
  warnings.printer = printer;

#if defined(__GLIBC__)
  /*
   * A message of a few MiB is gathered, shown and freed, then the next:
   * glibc would give each such buffer its own mmap() and the kernel zero
   * fresh pages for it every time. Kept in the heap they are reused (the
   * heap stays at the size of the few largest units alive at once).
   */
  mallopt (M_MMAP_THRESHOLD, 64 * 1024 * 1024);
  mallopt (M_TRIM_THRESHOLD, 128 * 1024 * 1024);
#endif
  tracer = pl_tracer_new (trace);
  /* The transcript is formatted and written in a second thread while this one reads and dissects. */
  pl_tracer_set_threaded (tracer, TRUE);
  /* The printer is the trace's only listener: the JSON writes each text straight from the octets. */
  if (json)
    pl_tracer_set_untexted_func (tracer, pl_trace_printer_expect_untexted, printer);
  pl_tracer_set_name (tracer, pl_pcap_source_get_name (source));
  pl_tracer_set_show_unknown (tracer, all);
  pl_tracer_set_warning_func (tracer, on_warning, &warnings);
  running_source = source;
  set_handlers (TRUE);
  ok = pl_tracer_run (tracer, source, &error);
  set_handlers (FALSE);
  running_source = NULL;
  st = pl_tracer_get_stats (tracer);
  if (pl_pcap_source_was_stopped (source))
    pl_cli_error ("trace", "stopped after %" G_GUINT64_FORMAT " packets; the sessions so far are shown, "
                  "cut where the capture was left", st->packets);

  if (!pl_trace_printer_flush (printer))
    exit_code = EXIT_DAMAGED;
  if (!ok)
    {
      pl_cli_error ("trace", "%s", error->message);
      exit_code = EXIT_DAMAGED;
    }
  if (warnings.n_warnings > 0)
    {
      if (warnings.n_warnings > MAX_WARNINGS)
        pl_cli_error ("trace", "%u damaged packets in all (only the first %u are named)",
                      warnings.n_warnings, MAX_WARNINGS);
      exit_code = EXIT_DAMAGED;
    }
  if (session > 0 && pl_trace_printer_get_n_printed_sessions (printer) == 0)
    {
      pl_cli_error ("trace", "there is no session %d (the capture has %u)", session, st->sessions);
      if (exit_code == PL_EXIT_OK)
        exit_code = EXIT_DAMAGED;
    }
  else if (st->sessions == 0 && ok)
    pl_cli_error ("trace", "no mail sessions found in %" G_GUINT64_FORMAT " packets "
                  "(%u TCP connections of other protocols; --all shows them)",
                  st->packets, st->ignored_flows);
  if (stats)
    fprintf (stderr, "postlab-cli trace: %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT " TCP, %"
             G_GUINT64_FORMAT " other, %" G_GUINT64_FORMAT " IP fragments, %" G_GUINT64_FORMAT
             " cut short, %" G_GUINT64_FORMAT " damaged), %u sessions, %u other connections\n",
             st->packets, st->tcp_segments, st->not_tcp, st->fragments, st->cut, st->malformed,
             st->sessions, st->ignored_flows);
  pl_tracer_free (tracer);
  return exit_code;
}
