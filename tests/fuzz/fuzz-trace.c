/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzz target: the octets of a capture file through the whole tracer, to events and both transcripts. */
#define G_LOG_DOMAIN "postlab-fuzz"

#include <stdint.h>
#include <stdio.h>

#include "pl-pcap-source.h"
#include "pl-trace-printer.h"
#include "pl-tracer.h"

int LLVMFuzzerInitialize   (int            *argc,
                            char         ***argv);
int LLVMFuzzerTestOneInput (const uint8_t  *data,
                            size_t          size);

/* The transcripts are written, so the writers run too, but nobody needs to read them. */
static FILE *devnull;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /*
   * A critical or a warning is a broken invariant (g_return_if_fail, or
   * pl_dissector_feed's "every step reads something"): make it a crash the
   * fuzzer reports, not a line it ignores.
   */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  devnull = fopen ("/dev/null", "w");
  return 0;
}

static void
trace_once (const guint8   *data,
            gsize           size,
            PlWriterFormat  format,
            gboolean        small_limits)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlPcapSource) source = NULL;
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlTracePrinter) printer = NULL;
  PlTracer *tracer;

  source = pl_pcap_source_open_bytes (data, size, "fuzz.pcap", &error);
  if (source == NULL)
    return;
  trace = pl_trace_new (FALSE);
  printer = pl_trace_printer_new (devnull, format, TRUE, FALSE);
  pl_trace_printer_attach (printer, trace);
  tracer = pl_tracer_new (trace);
  if (small_limits)
    {
      /* Tiny limits, so that small inputs reach the paths big captures take: units in parts,
       * out-of-order octets given up, flows evicted and expired, unknown flows shown. */
      pl_tracer_set_limits (tracer, 100, 200, 3, 2.0);
      pl_tracer_set_show_unknown (tracer, TRUE);
    }
  pl_tracer_run (tracer, source, NULL);
  pl_tracer_free (tracer);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (devnull == NULL)
    LLVMFuzzerInitialize (NULL, NULL);
  trace_once (data, size, PL_WRITER_TEXT, FALSE);
  trace_once (data, size, PL_WRITER_JSONL, TRUE);
  return 0;
}
