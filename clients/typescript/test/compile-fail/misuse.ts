// Each `@ts-expect-error` below marks a mistake the generated types must reject.
// `tsc --noEmit -p test/compile-fail` passes only if every marked line is an error
// (an unused `@ts-expect-error` is itself an error), and the test also compiles the
// file with the markers removed to check that each line fails for its own reason.

import { Client, type ToClient } from "../../examples/game/generated/protocol.js";

declare const client: Client;

// Correct uses compile.
client.send("move", { x: 1, y: 2 });
client.send("chat", { msg: "hi" });
client.send("ready");
client.sendMove(1, 2);
client.on("chat", ({ from, msg }) => `${from}: ${msg}`);
client.onEvent((event: ToClient) => {
  if (event.type === "joined") return event.data.id;
  return null;
});
const x: number | undefined = client.players.get("1a2b3c4d")?.x;
const leader: string | null = client.serverState.leader;
void x;
void leader;

// A misspelt event name (sending).
// @ts-expect-error misspelt-send
client.send("mvoe", { x: 1, y: 2 });

// A misspelt event name (handling).
// @ts-expect-error misspelt-on
client.on("chta", () => {});

// A payload field of the wrong type.
// @ts-expect-error wrong-field-type
client.send("move", { x: "1", y: 2 });

// A missing payload field.
// @ts-expect-error missing-field
client.send("move", { x: 1 });

// A field the event does not have.
// @ts-expect-error extra-field
client.send("chat", { msg: "hi", loud: true });

// A payload for an event without fields.
// @ts-expect-error payload-for-unit
client.send("ready", {});

// No payload for an event with fields.
// @ts-expect-error missing-payload
client.send("chat");

// A handler that expects the wrong payload.
// @ts-expect-error wrong-handler-payload
client.on("chat", (event: { from: number; msg: string }) => event);

// A convenience method with a wrong argument.
// @ts-expect-error wrong-convenience-argument
client.sendChat(42);

// A state field that does not exist.
// @ts-expect-error unknown-state-field
client.players.get("1a2b3c4d")?.z;

// An event the server does not send, in a switch over the union.
client.onEvent((event: ToClient) => {
  // @ts-expect-error unknown-union-member
  if (event.type === "kicked") return;
});
