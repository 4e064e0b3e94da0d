"""An unmodified Python nodelink 0.6.0 client joining a relayed game with its code
(`Client(code=..., relay_url=...)`), reporting what it sees as one JSON line per
observation on stdout.

Run by tests/relay.rs as `python relay_player.py RELAY_URL CODE NAME`. On connect it
says hello with its name. Each line on stdin is a command, `{"send": EVENT, "data":
DATA}`, sent through the package's thread-safe `send`. It exits when disconnected.
"""

import json
import sys
import threading

from nodelink import Client

relay_url, code, name = sys.argv[1], sys.argv[2], sys.argv[3]
# The package upper-cases the code: a player may type it in either case.
client = Client(code=code.lower(), relay_url=relay_url)
world = {}


def report(kind, **fields):
    print(json.dumps({"kind": kind, **fields}), flush=True)


def read_commands():
    for line in sys.stdin:
        command = json.loads(line)
        client.send(command["send"], command.get("data"))


@client.on("connect")
def on_connect():
    report("connect")
    client.send("hello", {"name": name})


@client.on("welcome")
def on_welcome(data):
    report("welcome", **data)


@client.on("joined")
def on_joined(data):
    report("joined", **data)


@client.on("left")
def on_left(data):
    report("left", **data)


@client.on("pong")
def on_pong(data):
    report("pong", **data)


@client.on("chat")
def on_chat(data):
    report("chat", **data)


@client.on("__state_sync__")
def on_state_sync(data):
    for player_id, delta in data["players"].items():
        world.setdefault(player_id, {}).update(delta)
    report("sync", world=world, count=data["count"])


@client.on("disconnect")
def on_disconnect():
    report("disconnect")


@client.on_error()
def on_error(error):
    report("error", message=str(error))


threading.Thread(target=read_commands, daemon=True).start()
client.connect()
