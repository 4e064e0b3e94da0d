// A page's script, type-checked with the DOM's types (and no Node types) by
// test/dom.test.ts: the browser's own WebSocket is the client's WebSocket option.

import { Client } from "../../examples/game/generated/protocol.js";

export function play(url: string): Client {
  const client = new Client(url, { WebSocket, reconnect: true });
  client.onError((error) => {
    document.title = `${error.name}: ${error.message}`;
  });
  return client;
}

export function playWithTheWindows(url: string): Client {
  return new Client(url, { WebSocket: window.WebSocket });
}
