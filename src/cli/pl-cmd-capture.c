/* SPDX-License-Identifier: GPL-3.0-or-later */
/* postlab-cli capture and interfaces: live capture with libpcap, the transcript printed as it happens. */
#define G_LOG_DOMAIN "postlab-cli"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pl-cli.h"
#include "pl-pcap-source.h"
#include "pl-trace-error.h"
#include "pl-trace-printer.h"
#include "pl-tracer.h"

/* Where `postlab-cli serve` listens, so a capture with no -i sees it. */
#define DEFAULT_INTERFACE "lo"
#define DEFAULT_FILTER    "tcp"

static PlPcapSource *volatile running_source;

static void
on_signal (int signum)
{
  /* pcap_breakloop() is meant to be called from a signal handler. */
  pl_pcap_source_break (running_source);
}

static void
install_handlers (void)
{
  struct sigaction action;

  memset (&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset (&action.sa_mask);
  /* No SA_RESTART: a blocking read returns, and the loop sees the stop. */
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);
}

static char *
program_path (void)
{
  g_autofree char *path = g_file_read_link ("/proc/self/exe", NULL);

  return path != NULL ? g_steal_pointer (&path) : g_strdup ("postlab-cli");
}

static int
report_open_error (const char   *interface,
                   const GError *error)
{
  if (g_error_matches (error, PL_TRACE_ERROR, PL_TRACE_ERROR_PERMISSION))
    {
      g_autofree char *path = program_path ();

      pl_cli_error ("capture", "%s.\n"
                    "Capturing packets needs the capabilities CAP_NET_RAW and CAP_NET_ADMIN. Either run it as root:\n"
                    "  sudo %s capture -i %s\n"
                    "or allow this program to capture once, then run it as yourself:\n"
                    "  sudo setcap cap_net_raw,cap_net_admin=eip %s",
                    error->message, path, interface, path);
      return PL_EXIT_USAGE;
    }
  if (g_error_matches (error, PL_TRACE_ERROR, PL_TRACE_ERROR_NO_DEVICE))
    {
      pl_cli_error ("capture", "%s; 'postlab-cli interfaces' lists the ones there are", error->message);
      return PL_EXIT_USAGE;
    }
  pl_cli_error ("capture", "%s", error->message);
  return PL_EXIT_USAGE;
}

int
pl_cmd_capture (int    argc,
                char **argv)
{
  char *interface = NULL;
  char *filter = NULL;
  char *output = NULL;
  gboolean json = FALSE;
  gboolean explain = FALSE;
  gboolean promiscuous = FALSE;
  int count = 0;
  int snaplen = 0;
  const GOptionEntry entries[] = {
    { "interface", 'i', 0, G_OPTION_ARG_STRING, &interface, "Capture on this interface (default lo; 'any' for all)", "IFACE" },
    { "filter", 'f', 0, G_OPTION_ARG_STRING, &filter, "Capture only packets that match this BPF filter (default: tcp)", "BPF" },
    { "write", 'w', 0, G_OPTION_ARG_FILENAME, &output, "Also write the packets to this pcap file", "OUT.pcap" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON Lines instead of the transcript", NULL },
    { "count", 'c', 0, G_OPTION_ARG_INT, &count, "Stop after COUNT packets", "COUNT" },
    { "snaplen", 's', 0, G_OPTION_ARG_INT, &snaplen, "Keep at most N octets of each packet (default 65664)", "N" },
    { "promiscuous", 0, 0, G_OPTION_ARG_NONE, &promiscuous, "Put the interface in promiscuous mode (off by default)", NULL },
    { "explain", 0, 0, G_OPTION_ARG_NONE, &explain, "Say under each command and reply what it means", NULL },
    { NULL }
  };
  g_autofree char *interface_owned = NULL;
  g_autofree char *filter_owned = NULL;
  g_autofree char *output_owned = NULL;
  g_autoptr(PlPcapSource) source = NULL;
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlTracePrinter) printer = NULL;
  g_autoptr(GError) error = NULL;
  PlLiveOptions options = { 0 };
  PlTracer *tracer;
  PlPacket packet;
  int link_type;
  guint64 n = 0;
  guint received = 0, dropped = 0;
  int exit_code = PL_EXIT_OK;

  if (!pl_cli_parse_options ("capture", NULL,
                             "Capture live and show the mail sessions as they happen (Ctrl-C ends it).\n"
                             "Needs root or the capture capabilities; see 'postlab-cli interfaces'.",
                             entries, &argc, &argv, &exit_code))
    return exit_code;
  interface_owned = interface;
  filter_owned = filter;
  output_owned = output;
  if (argc > 1)
    return pl_cli_usage_error ("capture", "unexpected argument '%s' (a filter goes after -f)", argv[1]);
  if (count < 0)
    return pl_cli_usage_error ("capture", "-c %d is not a packet count", count);
  if (snaplen < 0 || snaplen > 262144)
    return pl_cli_usage_error ("capture", "-s %d is not a snapshot length (1-262144)", snaplen);
  if (interface == NULL)
    interface = (char *) DEFAULT_INTERFACE;

  options.snaplen = snaplen;
  options.promiscuous = promiscuous;
  source = pl_pcap_source_open_live (interface, &options, &error);
  if (source == NULL)
    return report_open_error (interface, error);
  if (!pl_pcap_source_set_filter (source, filter != NULL ? filter : DEFAULT_FILTER, &error))
    return pl_cli_usage_error ("capture", "%s", error->message);
  if (output != NULL && !pl_pcap_source_dump_to (source, output, &error))
    {
      pl_cli_error ("capture", "%s", error->message);
      return PL_EXIT_USAGE;
    }

  trace = pl_trace_new (FALSE);
  printer = pl_trace_printer_new (stdout, json ? PL_WRITER_JSONL : PL_WRITER_TEXT, explain, TRUE);
  pl_trace_printer_attach (printer, trace);
  tracer = pl_tracer_new (trace);
  pl_tracer_set_name (tracer, interface);

  fprintf (stderr, "postlab-cli capture: listening on %s (%s)%s; Ctrl-C ends\n", interface,
           filter != NULL ? filter : DEFAULT_FILTER, output != NULL ? ", writing packets too" : "");
  fflush (stderr);
  running_source = source;
  install_handlers ();

  link_type = pl_pcap_source_get_link_type (source);
  while ((count == 0 || n < (guint64) count) && pl_pcap_source_next (source, &packet, &error))
    {
      pl_tracer_add_packet (tracer, link_type, &packet);
      n++;
    }
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);

  pl_tracer_finish (tracer);
  pl_tracer_free (tracer);
  pl_trace_printer_flush (printer);
  if (error != NULL)
    {
      pl_cli_error ("capture", "%s", error->message);
      exit_code = 1;
    }
  if (pl_pcap_source_get_stats (source, &received, &dropped))
    fprintf (stderr, "postlab-cli capture: %" G_GUINT64_FORMAT " packets captured, %u dropped by the kernel\n",
             n, dropped);
  else
    fprintf (stderr, "postlab-cli capture: %" G_GUINT64_FORMAT " packets captured\n", n);
  running_source = NULL;
  /* Freeing the source flushes and closes the -w file. */
  g_clear_pointer (&source, pl_pcap_source_free);
  return exit_code;
}

int
pl_cmd_interfaces (int    argc,
                   char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  int exit_code = PL_EXIT_OK;

  if (!pl_cli_parse_options ("interfaces", NULL, "List the interfaces 'postlab-cli capture -i' can capture on.",
                             entries, &argc, &argv, &exit_code))
    return exit_code;
  if (argc > 1)
    return pl_cli_usage_error ("interfaces", "takes no arguments");

  list = pl_capture_list_interfaces (&error);
  if (list == NULL)
    {
      pl_cli_error ("interfaces", "%s", error->message);
      return PL_EXIT_USAGE;
    }
  for (guint i = 0; i < list->len; i++)
    {
      PlCaptureInterface *item = g_ptr_array_index (list, i);
      GString *flags = g_string_new (NULL);

      if (item->loopback)
        g_string_append (flags, "loopback, ");
      g_string_append (flags, item->up ? "up" : "down");
      if (item->running)
        g_string_append (flags, ", running");
      printf ("%-12s %s%s%s%s%s\n", item->name, flags->str,
              item->addresses[0] != '\0' ? "; " : "", item->addresses,
              item->description != NULL ? "; " : "", item->description != NULL ? item->description : "");
      g_string_free (flags, TRUE);
    }
  if (list->len == 0)
    fprintf (stderr, "postlab-cli interfaces: none found; capturing may need root (or the capabilities "
                     "cap_net_raw,cap_net_admin)\n");
  return PL_EXIT_OK;
}
