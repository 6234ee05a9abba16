/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the engine tests: recording events, dialogues with a server, client and server joined. */
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

/* A server engine, with everything fed to it and everything it said. */
typedef struct {
  PlEngine       *server;
  PlTestRecorder *recorder;
  GByteArray     *input;
  GByteArray     *output;
} PlTestDialogue;

/* Takes @server, starts it and keeps its greeting in @output. */
void            pl_test_dialogue_init         (PlTestDialogue *dialogue,
                                               PlEngine       *server);
void            pl_test_dialogue_clear        (PlTestDialogue *dialogue);
/* Feeds @len octets and returns what the server said in answer (a string: replies hold no NUL). */
char           *pl_test_dialogue_say_len      (PlTestDialogue *dialogue,
                                               const char     *input,
                                               gsize           len);
char           *pl_test_dialogue_say          (PlTestDialogue *dialogue,
                                               const char     *input);
/* Feeds @len octets in pieces of 1 to 63 octets chosen by @rand, as a network might cut them. */
void            pl_test_dialogue_feed_randomly (PlTestDialogue *dialogue,
                                                const guint8   *input,
                                                gsize           len,
                                                GRand          *rand);
/* Feeds @input and asserts the server answered exactly @expected. */
void            pl_test_dialogue_expect       (PlTestDialogue *dialogue,
                                               const char     *input,
                                               const char     *expected);

/* A client engine and a server engine joined, with both sides' events and streams. */
typedef struct {
  PlEngine       *client;
  PlEngine       *server;
  PlTestRecorder *client_recorder;
  PlTestRecorder *server_recorder;
  GByteArray     *c_stream;
  GByteArray     *s_stream;
} PlTestLink;

/* Takes @client and @server; nothing runs until pl_test_link_run(). */
void            pl_test_link_init             (PlTestLink     *link,
                                               PlEngine       *client,
                                               PlEngine       *server);
void            pl_test_link_clear            (PlTestLink     *link);
/* Starts both engines and pumps them to the end (pl_test_pump()). */
void            pl_test_link_run              (PlTestLink     *link,
                                               gsize           chunk,
                                               gsize           split_at);
/* Each side's events, per direction, add up to the bytes that went across. */
void            pl_test_link_assert_streams   (PlTestLink     *link);
/* Both sides saw the same units of each of @kinds: same octets, status, verb, text and direction. */
void            pl_test_link_assert_same_units (PlTestLink       *link,
                                                const PlEventKind *kinds,
                                                gsize              n_kinds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlTestRecorder, pl_test_recorder_free)

G_END_DECLS
