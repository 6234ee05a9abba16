/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the POP3 engine tests: recording events, moving octets between engines. */
#pragma once

#include "pl-engine.h"
#include "pl-mail-store.h"

G_BEGIN_DECLS

/* Everything an engine hands out: its events and its state changes. */
typedef struct {
  GPtrArray *events;    /* of PlEvent*, owned */
  GString   *states;    /* "OLD>NEW;" for each change */
} PlTestRecorder;

PlTestRecorder *pl_test_recorder_new          (PlEngine       *engine);
void            pl_test_recorder_free         (PlTestRecorder *recorder);
/* The octets of every event in @dir, concatenated. */
GByteArray     *pl_test_recorder_concat       (PlTestRecorder *recorder,
                                               PlDirection     dir);
/* The events of @kind, in order, borrowed. */
GPtrArray      *pl_test_recorder_filter       (PlTestRecorder *recorder,
                                               PlEventKind     kind);

/*
 * Moves all of @engine's pending output into @into (when not NULL), as a
 * driver would, until the engine has nothing more to say; returns how much.
 */
gsize           pl_test_take_output           (PlEngine       *engine,
                                               GByteArray     *into);

/* A memory store holding the textbook maildrop (bob, hungry, 498 + 912 octets). */
PlMailStore    *pl_test_textbook_store        (void);

/*
 * Runs a client engine against a server engine until neither has anything
 * to say. Each batch of server output reaches the client in pieces of
 * @chunk octets (0: whole); when @split_at is not 0, each batch is instead
 * cut in two at that octet. Both streams are appended to @c_stream and
 * @s_stream when not NULL. When one side finishes, the other sees the
 * connection close.
 */
void            pl_test_pump                  (PlEngine       *client,
                                               PlEngine       *server,
                                               gsize           chunk,
                                               gsize           split_at,
                                               GByteArray     *c_stream,
                                               GByteArray     *s_stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlTestRecorder, pl_test_recorder_free)

G_END_DECLS
