"""The published Python nodelink 0.6.0 client (unmodified, from PyPI) over wss://,
reporting what it sees as one JSON line per observation on stdout.

Run by tests/tls.rs as `python wss_client.py WSS_URL`, with SSL_CERT_FILE naming the
test's certificate: the package connects with websockets' default TLS context,
which trusts the certificates in that file. `Client(host, port)` always builds a
ws:// URL; the one URL of the package's own that can be wss:// is a relay's
(`relay_url` + `/join/CODE`), so the server's address is given as the relay (the
stand-alone server serves any path). It moves and chats once welcomed; a chat
saying "quit" ends it.
"""

import json
import os
import sys

from nodelink import Client

client = Client(code="tls", relay_url=sys.argv[1])
world = {}


def report(kind, **fields):
    print(json.dumps({"kind": kind, **fields}), flush=True)


@client.on("__welcome__")
def on_welcome(data):
    report("welcome", id=data["id"])
    client.send("move", {"x": 1.5, "y": -2})
    client.send("chat", {"msg": "hello over wss"})


@client.on("__state_sync__")
def on_state_sync(data):
    if data.get("full"):
        world.clear()
    for player_id in data.get("left", []):
        world.pop(player_id, None)
    for player_id, delta in data["players"].items():
        world.setdefault(player_id, {}).update(delta)
    report("sync", world=world)


@client.on("chat")
def on_chat(data):
    report("chat", **data)
    if data["msg"] == "quit":
        os._exit(0)


@client.on_error()
def on_error(error):
    report("error", message=str(error))


client.connect()
