// Mistakes the generated types must reject, each marked `@ts-expect-error` with the
// error code it must raise. test/compile-fail.test.ts type-checks this file, which
// passes only if every marked line is an error (an unused `@ts-expect-error` is
// itself an error), then type-checks it with the markers removed to check that each
// marked line fails with the code in parentheses.

import { Client, type ToClient } from "../../examples/game/generated/protocol.js";

declare const client: Client;

// Correct uses compile.
client.send("move", { x: 1, y: 2 });
client.send("chat", { msg: "hi" });
client.send("ready");
client.sendMove({ x: 1, y: 2 });
client.sendReady();
client.on("chat", ({ from, msg }) => `${from}: ${msg}`);
client.onEvent((event: ToClient) => {
  if (event.type === "joined") return event.data.id;
  return null;
});
const x: number | undefined = client.players.get("1a2b3c4d")?.x;
const leader: string | null = client.serverState.leader;
void x;
void leader;
const code: string | null = Client.create("ws://h/", { title: "ada's table" }).matchCode;
void code;
void Client.join("ws://h/", "K7MQ4P");
void Client.find("ws://h/", { title: "" }).connect();
void Client.list("ws://h/").then((matches) => matches.map((match) => `${match.code}: ${match.metadata.title} ${match.players}/${match.maxPlayers}`));

// A misspelt event name (sending).
// @ts-expect-error misspelt-send (TS2345)
client.send("mvoe", { x: 1, y: 2 });

// A misspelt event name (handling).
// @ts-expect-error misspelt-on (TS2345)
client.on("chta", () => {});

// A payload field of the wrong type.
// @ts-expect-error wrong-field-type (TS2322)
client.send("move", { x: "1", y: 2 });

// A missing payload field.
// @ts-expect-error missing-field (TS2741)
client.send("move", { x: 1 });

// A field the event does not have.
// @ts-expect-error extra-field (TS2353)
client.send("chat", { msg: "hi", loud: true });

// A payload for an event without fields.
// @ts-expect-error payload-for-unit (TS2554)
client.send("ready", {});

// No payload for an event with fields.
// @ts-expect-error missing-payload (TS2554)
client.send("chat");

// A handler that expects the wrong payload.
// @ts-expect-error wrong-handler-payload (TS2345)
client.on("chat", (event: { from: number; msg: string }) => event);

// A convenience method with a wrong argument.
// @ts-expect-error wrong-convenience-argument (TS2322)
client.sendChat({ msg: 42 });

// A convenience method given its fields by position, as before they were by name.
// @ts-expect-error positional-fields (TS2554)
client.sendMove(1, 2);

// A state field that does not exist.
// @ts-expect-error unknown-state-field (TS2339)
client.players.get("1a2b3c4d")?.z;

// An event the server does not send, in a switch over the union.
client.onEvent((event: ToClient) => {
  // @ts-expect-error unknown-union-member (TS2367)
  if (event.type === "kicked") return;
});

// Match options that are not the protocol's.
// @ts-expect-error wrong-match-options (TS2353)
Client.create("ws://h/", { name: "ada's table" });

// Making a match without its options.
// @ts-expect-error missing-match-options (TS2741)
Client.find("ws://h/", {});

// A listing's metadata read as something it is not.
// @ts-expect-error wrong-metadata-field (TS2339)
void Client.list("ws://h/").then((matches) => matches[0]?.metadata.round);
