"""An unmodified Python nodelink 0.6.0 client playing the web game
(examples/web), reporting what it sees as one JSON line per observation on stdout.

Run by tests/web_game.rs as `python web_player.py PORT X Y`. On its welcome it moves
to (X, Y). It says "hello from python" when a chat asks "python, say hello", and
exits on a chat saying "quit".
"""

import json
import os
import sys

from nodelink import Client

client = Client("127.0.0.1", int(sys.argv[1]))
target = {"x": float(sys.argv[2]), "y": float(sys.argv[3])}
world = {}


def report(kind, **fields):
    print(json.dumps({"kind": kind, **fields}), flush=True)


@client.on("__welcome__")
def on_welcome(data):
    report("welcome", id=data["id"])
    client.send("move", target)


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
    if data["msg"] == "python, say hello":
        client.send("chat", {"msg": "hello from python"})
    elif data["msg"] == "quit":
        os._exit(0)


@client.on_error()
def on_error(error):
    report("error", message=str(error))


client.connect()
