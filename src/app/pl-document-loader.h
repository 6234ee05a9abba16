/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Opening documents: scenarios run by the simulator, pcap and pcapng files read by the tracer. */
#pragma once

#include <gio/gio.h>

#include "pl-document.h"

G_BEGIN_DECLS

/* How far loading has come, 0 to 1. */
typedef void (*PlDocumentProgressFunc) (double   fraction,
                                        gpointer user_data);

/* The kind of file @file is, from its first octets (pcap, pcapng) and else its name. */
PlDocumentKind  pl_document_sniff              (GFile                   *file);

/* Runs the built-in scenario @name ("textbook", "two-devices"). */
PlDocument     *pl_document_new_builtin        (const char              *name,
                                                GError                 **error);
/*
 * Opens @file: a scenario is run by the simulator (errors name the file and
 * line), a capture is traced (errors name the file and offset). Blocking,
 * for any thread; @progress is called from that thread. Fails with
 * G_IO_ERROR_CANCELLED when @cancellable is.
 */
PlDocument     *pl_document_load               (GFile                   *file,
                                                GCancellable            *cancellable,
                                                PlDocumentProgressFunc   progress,
                                                gpointer                 progress_data,
                                                GError                 **error);
/*
 * The same in a worker thread, so the window stays responsive while a large
 * capture loads; @progress is called in the caller's main context.
 * @file, or NULL with @builtin naming a built-in scenario to run.
 */
void            pl_document_load_async         (GFile                   *file,
                                                const char              *builtin,
                                                GCancellable            *cancellable,
                                                PlDocumentProgressFunc   progress,
                                                gpointer                 progress_data,
                                                GAsyncReadyCallback      callback,
                                                gpointer                 user_data);
PlDocument     *pl_document_load_finish        (GAsyncResult            *result,
                                                GError                 **error);

/* The title of the built-in scenario @name, translated. */
const char     *pl_document_builtin_title      (const char              *name);

G_END_DECLS
