"""An unmodified Python nodelink 0.6.0 client, driven through the package's own
`Client` API, that reports what it sees as one JSON line per observation on stdout.

Run by tests/python_interop.rs as `python interop_client.py PORT`. It plays a fixed
script, reacting to the server: on its first welcome it moves, chats, and sends two
events the server cannot accept; after a reconnect it chats again; a chat saying
"quit" ends it.
"""

import json
import os
import sys

from nodelink import Client

client = Client(
    "127.0.0.1",
    int(sys.argv[1]),
    reconnect=True,
    reconnect_delay=0.2,
    max_retries=5,
)
world = {}
server_state = {}
connections = 0


def report(kind, **fields):
    print(json.dumps({"kind": kind, **fields}), flush=True)


@client.on("connect")
def on_connect():
    global connections
    connections += 1
    report("connect", n=connections)


@client.on("__welcome__")
def on_welcome(data):
    report("welcome", id=data["id"], tick_rate=data["tick_rate"])
    if connections == 1:
        client.send("move", {"x": 1.5, "y": -2})
        client.send("chat", {"msg": "hello from python"})
        client.send("move", {"x": "left", "y": 0})
        client.send("teleport", {"to": 1})
        client.send("ready")
    else:
        client.send("chat", {"msg": "back again"})


@client.on("__state_sync__")
def on_state_sync(data):
    # What a Python game does with the sync payload: merge each delta.
    if data.get("full"):
        world.clear()
    for player_id in data.get("left", []):
        world.pop(player_id, None)
    for player_id, delta in data["players"].items():
        world.setdefault(player_id, {}).update(delta)
    server_state.update(data.get("server", {}))
    report("sync", world=world, count=data["count"], server=server_state)


@client.on("chat")
def on_chat(data):
    report("chat", **data)
    if data["msg"] == "quit":
        os._exit(0)


@client.on("disconnect")
def on_disconnect():
    report("disconnect")


@client.on("reconnecting")
def on_reconnecting(data):
    report("reconnecting", attempt=data["attempt"], delay=data["delay"])


@client.on_error()
def on_error(error):
    report("error", message=str(error))


client.connect()
