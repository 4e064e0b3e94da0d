"""An unmodified Python nodelink 0.6.0 server hosting a game through a relay
(`Server(relay_url=...)`), reporting what it sees as one JSON line per observation on
stdout.

Run by tests/relay.rs as `python relay_host.py RELAY_URL`. It reports the game code
the package prints for its user, then every connect, chat and disconnect. Its game:
`hello` names the player and gets a private `welcome`, `move` sets the position,
`chat` is broadcast, `kick` kicks the player named, `ping` is answered privately
with the player's measured round trip (`null` until measured); connects and
disconnects are broadcast as `joined` and `left`.
"""

import json
import re
import sys

from nodelink import Server

reports = sys.stdout


def report(kind, **fields):
    reports.write(json.dumps({"kind": kind, **fields}) + "\n")
    reports.flush()


class Banner:
    """Takes the package's own prints (its banner) off stdout, which carries the
    reports, and reports the game code the banner gives the user."""

    def write(self, text):
        sys.stderr.write(text)
        found = re.search(r"Client\(code='([^']+)'", text)
        if found:
            report("registered", code=found.group(1))
        return len(text)

    def flush(self):
        sys.stderr.flush()


sys.stdout = Banner()

server = Server(relay_url=sys.argv[1], tick_rate=20, ping_interval=0.2)


@server.on("connect")
def on_connect(player):
    player.set_state("name", "")
    report("connect", id=player.id)
    server.broadcast("joined", {"id": player.id})


@server.on("hello")
async def on_hello(player, data):
    player.update_state({"name": data["name"]})
    await player.send("welcome", {"id": player.id, "name": data["name"]})


@server.on("move")
def on_move(player, data):
    player.update_state({"x": data["x"], "y": data["y"]})


@server.on("chat")
def on_chat(player, data):
    report("chat", id=player.id, msg=data["msg"])
    server.broadcast("chat", {"from": player.id, "msg": data["msg"]})


@server.on("kick")
def on_kick(player, data):
    server.kick(data["id"])


@server.on("disconnect")
def on_disconnect(player):
    report("disconnect", id=player.id)
    server.broadcast("left", {"id": player.id})


@server.on("ping")
async def on_ping(player, data):
    # Measured from the client's automatic `__pong__` to the server's `__ping__`.
    await player.send("pong", {"ms": player.ping})


server.start()
